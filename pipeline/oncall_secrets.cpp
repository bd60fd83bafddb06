#include "pipeline/oncall_secrets.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <vector>

#include "config/section_reader.hpp"

namespace tocsin::pipeline {

std::shared_ptr<const oncall::ack_signer> make_ack_signer(const config::config& cfg) {
  const config::oncall_config& oncall = cfg.oncall;
  if (oncall.signing_key_file.empty()) {
    if (!oncall.escalation_policies.empty()) {
      spdlog::warn(
          "oncall: no signing_key_file; ack links are signed with a key made now and "
          "stop working when tocsin restarts");
    }
    return std::make_shared<const oncall::ack_signer>(oncall::ack_signer::random());
  }
  try {
    return std::make_shared<const oncall::ack_signer>(
        oncall::ack_signer::from_file(cfg.file.parent_path() / oncall.signing_key_file));
  } catch (const std::runtime_error& e) {
    throw config::config_error({config::location_prefix(oncall.where) + e.what()});
  }
}

std::map<std::string, std::string> read_user_tokens(const config::config& cfg) {
  std::map<std::string, std::string> out;
  std::vector<std::string> errors;
  for (const config::oncall_user& user : cfg.oncall.users) {
    if (user.token_file.empty()) continue;
    std::string problem;
    auto token = config::read_secret_file(cfg.file.parent_path() / user.token_file, problem);
    if (!token) {
      errors.push_back(config::location_prefix(user.where) + "oncall.users " + user.name +
                       ": token_file " + user.token_file + ": " + problem);
      continue;
    }
    if (auto [it, fresh] = out.emplace(*token, user.name); !fresh) {
      errors.push_back(config::location_prefix(user.where) + "oncall.users " + user.name +
                       ": token_file holds the same token as user " + it->second + "'s");
    }
  }
  if (!errors.empty()) throw config::config_error(std::move(errors));
  return out;
}

}  // namespace tocsin::pipeline
