#pragma once
// The web UI's files (ui/web/), compiled into the binary at build time, and the admin routes
// that serve them: GET / (index.html) and GET /ui/<file>, with an ETag.

#include <span>
#include <string_view>

namespace tocsin {
class admin_server;
}

namespace tocsin::ui {

// One embedded file: its URL path (/ui/<file>), Content-Type, bytes and quoted ETag.
struct ui_asset {
  std::string_view path, content_type, body, etag;
};

// The asset served at `path` ("/" is /ui/index.html); nullptr when there is none.
const ui_asset* find_ui_asset(std::string_view path);

// Every embedded asset, sorted by path.
std::span<const ui_asset> ui_assets();

// Serves the UI on `admin`: GET / and /ui/<file>; 304 when If-None-Match names the
// asset's ETag; 404 for an unknown file. The admin server adds its strict CSP to every answer. The
// paths need no token (the assets hold no secret; the API they call does).
void register_ui(admin_server& admin);

namespace generated {
std::span<const ui_asset> assets();  // ui_assets_data.cpp, written by embed_assets.cmake
}

}  // namespace tocsin::ui
