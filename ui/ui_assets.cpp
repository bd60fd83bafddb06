#include "ui/ui_assets.hpp"

#include <algorithm>
#include <string>

#include "core/admin_server.hpp"

namespace tocsin::ui {

std::span<const ui_asset> ui_assets() { return generated::assets(); }

const ui_asset* find_ui_asset(std::string_view path) {
  if (path == "/" || path == "/ui/") path = "/ui/index.html";
  const auto all = ui_assets();
  const auto it =
      std::lower_bound(all.begin(), all.end(), path,
                       [](const ui_asset& a, std::string_view p) { return a.path < p; });
  return it != all.end() && it->path == path ? &*it : nullptr;
}

namespace {

// Whether an If-None-Match value (a list of quoted ETags, maybe weak, or *) names `etag`.
bool etag_matches(std::string_view header, std::string_view etag) {
  if (header.find('*') != std::string_view::npos) return true;
  std::size_t at = 0;
  while ((at = header.find(etag, at)) != std::string_view::npos) {
    // A whole list element: preceded by start, a comma, a space or "W/".
    const bool starts = at == 0 || header[at - 1] == ',' || header[at - 1] == ' ' ||
                        (at >= 2 && header.substr(at - 2, 2) == "W/");
    if (starts) return true;
    at += etag.size();
  }
  return false;
}

http_reply serve(const http_request_view& req) {
  const std::string path = req.target.substr(0, req.target.find('?'));
  if (req.method != "GET") return {405, "text/plain; charset=utf-8", "use GET\n"};
  const ui_asset* asset = find_ui_asset(path);
  if (asset == nullptr) return {404, "text/plain; charset=utf-8", "not found\n"};
  http_reply reply;
  reply.content_type = std::string(asset->content_type);
  // no-cache: the browser may keep a copy but asks first, so an upgrade shows at once; the
  // ETag makes asking cheap.
  // The admin server adds the Content-Security-Policy and the other security headers.
  reply.headers = {{"Cache-Control", "no-cache"}, {"ETag", std::string(asset->etag)}};
  const auto validator = req.headers.find("if-none-match");
  if (validator != req.headers.end() && etag_matches(validator->second, asset->etag)) {
    reply.status = 304;
    return reply;
  }
  reply.body = std::string(asset->body);
  return reply;
}

}  // namespace

void register_ui(admin_server& admin) {
  admin.handle("/", serve);
  admin.handle_prefix("/ui/", serve);
}

}  // namespace tocsin::ui
