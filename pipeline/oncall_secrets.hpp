#pragma once
// The on-call secrets a router reads at start (DESIGN.md, "On-call"): the key that signs ack
// links and the users' own API tokens. Paths are relative to the config file.

#include <map>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "oncall/ack_link.hpp"

namespace tocsin::pipeline {

// From oncall.signing_key_file; without one, a random key (links stop working at a restart and
// differ between routers: the log says so when escalations are configured). Throws
// config::config_error when the file is unreadable or the key too short.
std::shared_ptr<const oncall::ack_signer> make_ack_signer(const config::config& cfg);

// Token → user name, from oncall.users[].token_file. Throws config::config_error listing every
// unreadable file and every token two users share.
std::map<std::string, std::string> read_user_tokens(const config::config& cfg);

}  // namespace tocsin::pipeline
