#include "collector/gelf_chunk_assembler.hpp"

#include <algorithm>
#include <cstring>

namespace tocsin::collector {

namespace {
// Per message beyond its chunk bodies: the list and map nodes around it (an estimate; what
// matters is that a message of empty chunks is not free).
constexpr std::size_t node_overhead = 64;
}  // namespace

std::size_t gelf_chunk_assembler::key_hash::operator()(const message_key& k) const noexcept {
  // splitmix64 finalizer: std::hash<uint64_t> is the identity, which lets a sender pick ids
  // that all land in one bucket.
  std::uint64_t id = k.id ^ source_key_hash {}(k.source);
  id ^= id >> 30;
  id *= 0xbf58476d1ce4e5b9ULL;
  id ^= id >> 27;
  id *= 0x94d049bb133111ebULL;
  id ^= id >> 31;
  return static_cast<std::size_t>(id);
}

gelf_chunk_assembler::gelf_chunk_assembler(gelf_chunk_limits limits) : limits_(limits) {
  // Chunk offsets are 32-bit; a message is far smaller than that anyway.
  limits_.max_message_bytes = std::min<std::size_t>(limits_.max_message_bytes, 1u << 30);
  limits_.max_pending_messages = std::max<std::size_t>(limits_.max_pending_messages, 1);
  limits_.max_pending_bytes = std::max(limits_.max_pending_bytes, limits_.max_message_bytes);
  // One message of the largest size, in the most chunks, must fit a source's budget.
  const std::size_t largest =
      limits_.max_message_bytes + sizeof(message) + max_chunks * sizeof(span) + node_overhead;
  limits_.max_pending_bytes_per_source = std::max(limits_.max_pending_bytes_per_source, largest);
}

bool gelf_chunk_assembler::is_chunk(std::string_view datagram) {
  return datagram.size() >= 2 && static_cast<unsigned char>(datagram[0]) == 0x1e &&
         static_cast<unsigned char>(datagram[1]) == 0x0f;
}

std::size_t gelf_chunk_assembler::pending_bytes_of(const source_key& source) const {
  const auto it = sources_.find(source);
  return it == sources_.end() ? 0 : it->second.charge;
}

std::size_t gelf_chunk_assembler::charge_of(const message& m) {
  return m.data.size() + sizeof(message) + m.spans.capacity() * sizeof(span) + node_overhead;
}

void gelf_chunk_assembler::recharge(message& m) {
  source_state& owner = *m.owner;
  const std::size_t now_charged = charge_of(m);
  by_weight_.erase({owner.charge, &owner});
  owner.charge = owner.charge - m.charged + now_charged;
  m.charged = now_charged;
  by_weight_.insert({owner.charge, &owner});
}

void gelf_chunk_assembler::kill(message& m) {
  pending_bytes_ -= m.data.size();
  std::string().swap(m.data);
  std::vector<span>().swap(m.spans);
  m.dead = true;
  recharge(m);
}

void gelf_chunk_assembler::erase(message_list::iterator it) {
  pending_bytes_ -= it->data.size();
  source_state& owner = *it->owner;
  by_weight_.erase({owner.charge, &owner});
  by_count_.erase({owner.messages.size(), &owner});
  owner.charge -= it->charged;
  owner.messages.erase(it->in_owner);
  if (owner.messages.empty()) {
    sources_.erase(it->source);
  } else {
    by_weight_.insert({owner.charge, &owner});
    by_count_.insert({owner.messages.size(), &owner});
  }
  index_.erase(message_key{it->source, it->id});
  order_.erase(it);
}

bool gelf_chunk_assembler::evict_from_heaviest(const weight_order& order,
                                               message_list::iterator keep, chunk_result& r) {
  // Heaviest first. (Not std::ranges::reverse_view: clang 14 with libstdc++ 12 rejects it.)
  for (auto it = order.rbegin(); it != order.rend(); ++it) {  // NOLINT(modernize-loop-convert)
    for (const auto victim : it->second->messages) {
      if (victim == keep) continue;
      if (!victim->dead) ++r.evicted;
      // May drop the source and its entries in `order`: return before iterating further.
      erase(victim);
      return true;
    }
  }
  return false;
}

std::size_t gelf_chunk_assembler::expire(clock::time_point now) {
  std::size_t dropped = 0;
  // The list is in order of first arrival, so stale messages are all at its front.
  while (!order_.empty() && now - order_.front().first_seen > limits_.timeout) {
    if (!order_.front().dead) ++dropped;
    erase(order_.begin());
  }
  return dropped;
}

chunk_result gelf_chunk_assembler::add(std::string_view datagram, clock::time_point now,
                                       const source_key& source) {
  chunk_result r;
  r.timed_out = static_cast<std::uint32_t>(expire(now));
  const auto reject = [&r](const char* code, const char* what) {
    r.state = chunk_result::rejected;
    r.error = decode_status::fail(code, what);
    return r;
  };

  if (!is_chunk(datagram)) {
    r.state = chunk_result::complete;
    r.payload = datagram;
    return r;
  }
  if (datagram.size() < header_bytes) {
    return reject("bad_chunk_header", "GELF chunk shorter than its 12-byte header");
  }
  std::uint64_t id = 0;
  std::memcpy(&id, datagram.data() + 2, sizeof id);
  const unsigned seq = static_cast<unsigned char>(datagram[10]);
  const unsigned count = static_cast<unsigned char>(datagram[11]);
  const std::string_view body = datagram.substr(header_bytes);
  if (count == 0 || count > max_chunks) {
    return reject("bad_chunk_count", "GELF chunk count must be 1..128");
  }
  if (seq >= count) {
    return reject("bad_chunk_seq", "GELF chunk sequence number is not below the count");
  }
  if (body.size() > limits_.max_message_bytes) {
    return reject("message_too_large", "chunked GELF message is larger than the limit");
  }

  const message_key key{source, id};
  auto found = index_.find(key);
  if (found == index_.end() && count == 1) {  // a message in one chunk needs no buffering
    r.state = chunk_result::complete;
    r.payload = body;
    return r;
  }

  const auto over_budget = [&](std::size_t more) {
    return pending_bytes_of(source) + more > limits_.max_pending_bytes_per_source;
  };
  message_list::iterator it;
  if (found == index_.end()) {
    // A new message costs its bookkeeping before its first body byte.
    const std::size_t first_charge =
        body.size() + sizeof(message) + count * sizeof(span) + node_overhead;
    if (over_budget(first_charge)) {
      return reject("chunk_source_budget",
                    "source has too many incomplete GELF messages in flight, chunk refused");
    }
    while (order_.size() >= limits_.max_pending_messages &&
           evict_from_heaviest(by_count_, order_.end(), r)) {
    }
    it = order_.emplace(order_.end());
    it->id = id;
    it->source = source;
    it->first_seen = now;
    it->count = count;
    it->spans.resize(count);
    source_state& owner = sources_[source];
    by_weight_.erase({owner.charge, &owner});  // absent for a new source: harmless
    by_count_.erase({owner.messages.size(), &owner});
    it->owner = &owner;
    it->in_owner = owner.messages.insert(owner.messages.end(), it);
    it->charged = 0;
    by_weight_.insert({owner.charge, &owner});
    by_count_.insert({owner.messages.size(), &owner});
    recharge(*it);
    index_.emplace(key, it);
  } else {
    it = found->second;
    if (it->dead) return r;  // already rejected and counted; swallow the rest
    if (it->count != count) {
      kill(*it);
      return reject("chunk_count_mismatch", "GELF chunks of one message disagree on the count");
    }
    if (it->have.test(seq)) return r;  // duplicate: the first copy wins
    if (over_budget(body.size())) {
      kill(*it);
      return reject("chunk_source_budget",
                    "source has too many incomplete GELF messages in flight, message dropped");
    }
  }

  message& m = *it;
  if (m.data.size() + body.size() > limits_.max_message_bytes) {
    kill(m);
    return reject("message_too_large", "chunked GELF message is larger than the limit");
  }
  // Stay under the global byte budget by evicting from the heaviest sources.
  while (pending_bytes_ + body.size() > limits_.max_pending_bytes &&
         evict_from_heaviest(by_weight_, it, r)) {
  }

  m.spans[seq] = {static_cast<std::uint32_t>(m.data.size()),
                  static_cast<std::uint32_t>(body.size())};
  m.data.append(body);
  pending_bytes_ += body.size();
  m.have.set(seq);
  if (++m.received < m.count) {
    recharge(m);
    return r;
  }

  assembled_.clear();
  assembled_.reserve(m.data.size());
  for (const span& s : m.spans) assembled_.append(m.data, s.offset, s.size);
  erase(it);
  r.state = chunk_result::complete;
  r.payload = assembled_;
  return r;
}

}  // namespace tocsin::collector
