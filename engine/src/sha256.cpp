// SHA-256 as specified in FIPS 180-4 (sections 4.1.2, 4.2.2, 5.1.1, 5.3.3, 6.2):
// padding and the incremental interface here, with the portable compression
// function; sha256_ni.cpp has the one using the x86 SHA extensions, chosen at
// run time when the CPU has them.
#include "sha256.hpp"

#include <bit>
#include <cstring>

#include "sha256_constants.hpp"

namespace mlops {

namespace {

constexpr const auto& kRound = detail::kSha256Round;
constexpr const auto& kInitial = detail::kSha256Initial;

std::uint32_t big_endian_word(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// The compression function (6.2.2) on one 512-bit block.
void compress(std::uint32_t* h, const std::uint8_t* block) {
  std::array<std::uint32_t, 64> w;
  for (int t = 0; t < 16; ++t) w[t] = big_endian_word(block + 4 * t);
  for (int t = 16; t < 64; ++t) {
    const std::uint32_t s0 = std::rotr(w[t - 15], 7) ^ std::rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    const std::uint32_t s1 = std::rotr(w[t - 2], 17) ^ std::rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int t = 0; t < 64; ++t) {
    const std::uint32_t sum1 = std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25);
    const std::uint32_t choose = (e & f) ^ (~e & g);
    const std::uint32_t t1 = k + sum1 + choose + kRound[t] + w[t];
    const std::uint32_t sum0 = std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22);
    const std::uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
    const std::uint32_t t2 = sum0 + majority;
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += k;
}

using BlocksFn = void (*)(std::uint32_t*, const std::uint8_t*, std::size_t) noexcept;

BlocksFn blocks_fn(Sha256Backend backend) noexcept {
  return backend == Sha256Backend::sha_ni ? &detail::sha256_blocks_shani
                                          : &detail::sha256_blocks_portable;
}

// The CPU check runs once; afterwards each call costs a load.
BlocksFn active_blocks() noexcept {
  static const BlocksFn fn = blocks_fn(sha256_active_backend());
  return fn;
}

Digest digest_of(const std::uint32_t* state) noexcept {
  Digest digest;
  for (std::size_t i = 0; i < 8; ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      digest[4 * i + j] = static_cast<std::uint8_t>(state[i] >> (24 - 8 * j));
    }
  }
  return digest;
}

// Pads the `used` bytes of `tail` (fewer than 64) for a message of `total`
// bytes (5.1.1: a 1 bit, zeros, the length in bits big-endian), compresses
// the last one or two blocks and returns the digest.
Digest finish_tail(BlocksFn fn, std::uint32_t* state, const std::uint8_t* tail, std::size_t used,
                   std::uint64_t total) noexcept {
  std::array<std::uint8_t, 128> last{};
  std::memcpy(last.data(), tail, used);
  last[used] = 0x80;
  const std::size_t size = used + 1 + 8 <= 64 ? 64 : 128;
  const std::uint64_t bits = total * 8;
  for (std::size_t i = 0; i < 8; ++i) {
    last[size - 8 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  }
  fn(state, last.data(), size / 64);
  return digest_of(state);
}

Digest one_shot(BlocksFn fn, std::string_view data) noexcept {
  std::array<std::uint32_t, 8> state = kInitial;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
  const std::size_t whole = data.size() / 64;
  if (whole > 0) fn(state.data(), bytes, whole);
  return finish_tail(fn, state.data(), bytes + whole * 64, data.size() % 64, data.size());
}

}  // namespace

namespace detail {

void sha256_blocks_portable(std::uint32_t* state, const std::uint8_t* data,
                            std::size_t blocks) noexcept {
  for (; blocks > 0; --blocks, data += 64) compress(state, data);
}

namespace {

// Pads a message in place (5.1.1: a 1 bit, zeros, then the length in bits
// big-endian, to a multiple of 64 bytes); returns the number of blocks.
std::size_t pad_in_place(std::uint8_t* data, std::size_t size) noexcept {
  const std::size_t padded = (size + 9 + 63) / 64 * 64;
  data[size] = 0x80;
  std::memset(data + size + 1, 0, padded - 8 - size - 1);
  const std::uint64_t bits = std::uint64_t{size} * 8;
  for (std::size_t i = 0; i < 8; ++i) {
    data[padded - 8 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  }
  return padded / 64;
}

}  // namespace

Digest sha256_padded(std::uint8_t* data, std::size_t size) noexcept {
  std::array<std::uint32_t, 8> state = kInitial;
  active_blocks()(state.data(), data, pad_in_place(data, size));
  return digest_of(state.data());
}

void sha256_padded_x2(std::uint8_t* data_a, std::size_t size_a, Digest& digest_a,
                      std::uint8_t* data_b, std::size_t size_b, Digest& digest_b) noexcept {
  const std::size_t blocks_a = pad_in_place(data_a, size_a);
  const std::size_t blocks_b = pad_in_place(data_b, size_b);
  std::array<std::uint32_t, 8> state_a = kInitial;
  std::array<std::uint32_t, 8> state_b = kInitial;
  const BlocksFn fn = active_blocks();
  if (fn == &detail::sha256_blocks_shani) {
    // The common blocks together, then the longer message's rest alone.
    const std::size_t both = std::min(blocks_a, blocks_b);
    detail::sha256_blocks_shani_x2(state_a.data(), data_a, state_b.data(), data_b, both);
    if (blocks_a > both) fn(state_a.data(), data_a + both * 64, blocks_a - both);
    if (blocks_b > both) fn(state_b.data(), data_b + both * 64, blocks_b - both);
  } else {
    fn(state_a.data(), data_a, blocks_a);
    fn(state_b.data(), data_b, blocks_b);
  }
  digest_a = digest_of(state_a.data());
  digest_b = digest_of(state_b.data());
}

}  // namespace detail

bool sha256_backend_supported(Sha256Backend backend) noexcept {
  return backend == Sha256Backend::portable || detail::sha256_shani_supported();
}

Sha256Backend sha256_active_backend() noexcept {
  static const Sha256Backend backend =
      detail::sha256_shani_supported() ? Sha256Backend::sha_ni : Sha256Backend::portable;
  return backend;
}

Digest sha256_with(Sha256Backend backend, std::string_view data) noexcept {
  return one_shot(blocks_fn(backend), data);
}

Sha256::Sha256() noexcept : state_(kInitial) {}

void Sha256::update(const void* data, std::size_t size) noexcept {
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  total_ += size;
  if (used_ > 0) {
    const std::size_t take = std::min(size, block_.size() - used_);
    std::memcpy(block_.data() + used_, bytes, take);
    used_ += take;
    bytes += take;
    size -= take;
    if (used_ < block_.size()) return;
    active_blocks()(state_.data(), block_.data(), 1);
    used_ = 0;
  }
  if (size >= 64) {
    active_blocks()(state_.data(), bytes, size / 64);
    bytes += size / 64 * 64;
    size %= 64;
  }
  if (size > 0) {
    std::memcpy(block_.data(), bytes, size);
    used_ = size;
  }
}

Digest Sha256::finish() noexcept {
  return finish_tail(active_blocks(), state_.data(), block_.data(), used_, total_);
}

Digest sha256(std::string_view data) noexcept { return one_shot(active_blocks(), data); }

std::string to_hex(const Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(64, '0');
  for (std::size_t i = 0; i < digest.size(); ++i) {
    text[2 * i] = kDigits[digest[i] >> 4];
    text[2 * i + 1] = kDigits[digest[i] & 0x0f];
  }
  return text;
}

std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

}  // namespace mlops
