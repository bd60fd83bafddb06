#include "collector/gelf_chunk_assembler.hpp"

#include <algorithm>
#include <cstring>

namespace tocsin::collector {

std::size_t gelf_chunk_assembler::id_hash::operator()(std::uint64_t id) const noexcept {
  // splitmix64 finalizer: std::hash<uint64_t> is the identity, which lets a sender pick ids
  // that all land in one bucket.
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
}

bool gelf_chunk_assembler::is_chunk(std::string_view datagram) {
  return datagram.size() >= 2 && static_cast<unsigned char>(datagram[0]) == 0x1e &&
         static_cast<unsigned char>(datagram[1]) == 0x0f;
}

void gelf_chunk_assembler::kill(message& m) {
  pending_bytes_ -= m.data.size();
  std::string().swap(m.data);
  std::vector<span>().swap(m.spans);
  m.dead = true;
}

void gelf_chunk_assembler::erase(message_list::iterator it) {
  pending_bytes_ -= it->data.size();
  index_.erase(it->id);
  order_.erase(it);
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

chunk_result gelf_chunk_assembler::add(std::string_view datagram, clock::time_point now) {
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

  auto found = index_.find(id);
  if (found == index_.end() && count == 1) {  // a message in one chunk needs no buffering
    r.state = chunk_result::complete;
    r.payload = body;
    return r;
  }

  message_list::iterator it;
  if (found == index_.end()) {
    while (order_.size() >= limits_.max_pending_messages) {
      if (!order_.front().dead) ++r.evicted;
      erase(order_.begin());
    }
    it = order_.emplace(order_.end());
    it->id = id;
    it->first_seen = now;
    it->count = count;
    it->spans.resize(count);
    index_.emplace(id, it);
  } else {
    it = found->second;
    if (it->dead) return r;  // already rejected and counted; swallow the rest
    if (it->count != count) {
      kill(*it);
      return reject("chunk_count_mismatch", "GELF chunks of one message disagree on the count");
    }
    if (it->have.test(seq)) return r;  // duplicate: the first copy wins
  }

  message& m = *it;
  if (m.data.size() + body.size() > limits_.max_message_bytes) {
    kill(m);
    return reject("message_too_large", "chunked GELF message is larger than the limit");
  }
  // Stay under the global byte budget by evicting the oldest other messages.
  for (auto victim = order_.begin();
       pending_bytes_ + body.size() > limits_.max_pending_bytes && victim != order_.end();) {
    if (victim == it) {
      ++victim;
      continue;
    }
    if (!victim->dead) ++r.evicted;
    const auto next = std::next(victim);
    erase(victim);
    victim = next;
  }

  m.spans[seq] = {static_cast<std::uint32_t>(m.data.size()),
                  static_cast<std::uint32_t>(body.size())};
  m.data.append(body);
  pending_bytes_ += body.size();
  m.have.set(seq);
  if (++m.received < m.count) return r;

  assembled_.clear();
  assembled_.reserve(m.data.size());
  for (const span& s : m.spans) assembled_.append(m.data, s.offset, s.size);
  erase(it);
  r.state = chunk_result::complete;
  r.payload = assembled_;
  return r;
}

}  // namespace tocsin::collector
