// The SHA-256 compression function (FIPS 180-4, 6.2.2) with the x86 SHA
// extensions. Only this file's functions carry target("sha,sse4.1"), so the
// rest of the build needs no special flags; sha256.cpp calls them only after
// checking at run time that the CPU has the instructions.
//
// Register layout, as the instructions define it (dword 0 = bits 31:0):
//   abef = {F, E, B, A}, cdgh = {H, G, D, C}: the eight working variables;
//   SHA256RNDS2 does two rounds on them with W[t] + K[t] for both rounds in
//   the low two dwords of its third operand, and returns the new {F, E, B, A};
//   the old abef then holds the new {H, G, D, C}.
//   A message vector holds W[t..t+3], W[t] in dword 0. For t >= 16,
//   SHA256MSG1(W[t-16..], W[t-12..]) gives W[t-16+i] + sigma0(W[t-15+i]), to
//   which W[t-7..t-4] are added, and SHA256MSG2(that, W[t-4..t-1]) adds
//   sigma1(W[t-2+i]), feeding its own first results forward for i = 2, 3.
#include "sha256.hpp"
#include "sha256_constants.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

namespace mlops::detail {

namespace {

#define MLOPS_SHA_TARGET __attribute__((target("sha,sse4.1")))

struct WorkingState {
  __m128i abef;
  __m128i cdgh;
};

// Four rounds t..t+3 with message words w = W[t..t+3].
MLOPS_SHA_TARGET inline void four_rounds(WorkingState& s, __m128i w, int t) {
  const __m128i wk = _mm_add_epi32(
      w, _mm_load_si128(reinterpret_cast<const __m128i*>(kSha256Round.data() + t)));  // NOLINT
  const __m128i abef_2 = _mm_sha256rnds2_epu32(s.cdgh, s.abef, wk);
  // Dwords 2 and 3 (W+K for rounds t+2, t+3) moved down to dwords 0 and 1.
  const __m128i abef_4 = _mm_sha256rnds2_epu32(s.abef, abef_2, _mm_shuffle_epi32(wk, 0x0E));
  s.cdgh = abef_2;
  s.abef = abef_4;
}

// W[t..t+3] from w0 = W[t-16..], w1 = W[t-12..], w2 = W[t-8..], w3 = W[t-4..].
MLOPS_SHA_TARGET inline __m128i schedule(__m128i w0, __m128i w1, __m128i w2, __m128i w3) {
  // _mm_alignr_epi8(w3, w2, 4) = {W[t-7], W[t-6], W[t-5], W[t-4]}.
  const __m128i partial = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
  return _mm_sha256msg2_epu32(partial, w3);
}

MLOPS_SHA_TARGET inline void store_state(std::uint32_t* state, const WorkingState& s) {
  alignas(16) std::uint32_t abef[4];
  alignas(16) std::uint32_t cdgh[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(abef), s.abef);  // NOLINT
  _mm_store_si128(reinterpret_cast<__m128i*>(cdgh), s.cdgh);  // NOLINT
  state[0] = abef[3];
  state[1] = abef[2];
  state[4] = abef[1];
  state[5] = abef[0];
  state[2] = cdgh[3];
  state[3] = cdgh[2];
  state[6] = cdgh[1];
  state[7] = cdgh[0];
}

}  // namespace

MLOPS_SHA_TARGET void sha256_blocks_shani(std::uint32_t* state, const std::uint8_t* data,
                                          std::size_t blocks) noexcept {
  // Byte order within each dword reversed: the message words are big-endian.
  const __m128i big_endian = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  WorkingState s;
  s.abef = _mm_set_epi32(static_cast<int>(state[0]), static_cast<int>(state[1]),
                         static_cast<int>(state[4]), static_cast<int>(state[5]));
  s.cdgh = _mm_set_epi32(static_cast<int>(state[2]), static_cast<int>(state[3]),
                         static_cast<int>(state[6]), static_cast<int>(state[7]));
  for (; blocks > 0; --blocks, data += 64) {
    const WorkingState saved = s;
    const auto* in = reinterpret_cast<const __m128i*>(data);  // NOLINT: unaligned loads below
    __m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128(in), big_endian);
    __m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128(in + 1), big_endian);
    __m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128(in + 2), big_endian);
    __m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128(in + 3), big_endian);
    four_rounds(s, w0, 0);
    four_rounds(s, w1, 4);
    four_rounds(s, w2, 8);
    four_rounds(s, w3, 12);
    for (int t = 16; t < 64; t += 16) {
      w0 = schedule(w0, w1, w2, w3);
      four_rounds(s, w0, t);
      w1 = schedule(w1, w2, w3, w0);
      four_rounds(s, w1, t + 4);
      w2 = schedule(w2, w3, w0, w1);
      four_rounds(s, w2, t + 8);
      w3 = schedule(w3, w0, w1, w2);
      four_rounds(s, w3, t + 12);
    }
    s.abef = _mm_add_epi32(s.abef, saved.abef);
    s.cdgh = _mm_add_epi32(s.cdgh, saved.cdgh);
  }
  store_state(state, s);
}

MLOPS_SHA_TARGET void sha256_blocks_shani_x2(std::uint32_t* state_a, const std::uint8_t* data_a,
                                             std::uint32_t* state_b, const std::uint8_t* data_b,
                                             std::size_t blocks) noexcept {
  // Two independent messages: each round depends on the one before, so one
  // message leaves the SHA unit idle between dependent instructions, which the
  // other fills (the core interleaves the two chains).
  const __m128i big_endian = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  WorkingState a;
  WorkingState b;
  a.abef = _mm_set_epi32(static_cast<int>(state_a[0]), static_cast<int>(state_a[1]),
                         static_cast<int>(state_a[4]), static_cast<int>(state_a[5]));
  a.cdgh = _mm_set_epi32(static_cast<int>(state_a[2]), static_cast<int>(state_a[3]),
                         static_cast<int>(state_a[6]), static_cast<int>(state_a[7]));
  b.abef = _mm_set_epi32(static_cast<int>(state_b[0]), static_cast<int>(state_b[1]),
                         static_cast<int>(state_b[4]), static_cast<int>(state_b[5]));
  b.cdgh = _mm_set_epi32(static_cast<int>(state_b[2]), static_cast<int>(state_b[3]),
                         static_cast<int>(state_b[6]), static_cast<int>(state_b[7]));
  for (; blocks > 0; --blocks, data_a += 64, data_b += 64) {
    const WorkingState saved_a = a;
    const WorkingState saved_b = b;
    const auto* in_a = reinterpret_cast<const __m128i*>(data_a);  // NOLINT: unaligned loads
    const auto* in_b = reinterpret_cast<const __m128i*>(data_b);  // NOLINT: unaligned loads
    __m128i a0 = _mm_shuffle_epi8(_mm_loadu_si128(in_a), big_endian);
    __m128i b0 = _mm_shuffle_epi8(_mm_loadu_si128(in_b), big_endian);
    __m128i a1 = _mm_shuffle_epi8(_mm_loadu_si128(in_a + 1), big_endian);
    __m128i b1 = _mm_shuffle_epi8(_mm_loadu_si128(in_b + 1), big_endian);
    __m128i a2 = _mm_shuffle_epi8(_mm_loadu_si128(in_a + 2), big_endian);
    __m128i b2 = _mm_shuffle_epi8(_mm_loadu_si128(in_b + 2), big_endian);
    __m128i a3 = _mm_shuffle_epi8(_mm_loadu_si128(in_a + 3), big_endian);
    __m128i b3 = _mm_shuffle_epi8(_mm_loadu_si128(in_b + 3), big_endian);
    four_rounds(a, a0, 0);
    four_rounds(b, b0, 0);
    four_rounds(a, a1, 4);
    four_rounds(b, b1, 4);
    four_rounds(a, a2, 8);
    four_rounds(b, b2, 8);
    four_rounds(a, a3, 12);
    four_rounds(b, b3, 12);
    for (int t = 16; t < 64; t += 16) {
      a0 = schedule(a0, a1, a2, a3);
      b0 = schedule(b0, b1, b2, b3);
      four_rounds(a, a0, t);
      four_rounds(b, b0, t);
      a1 = schedule(a1, a2, a3, a0);
      b1 = schedule(b1, b2, b3, b0);
      four_rounds(a, a1, t + 4);
      four_rounds(b, b1, t + 4);
      a2 = schedule(a2, a3, a0, a1);
      b2 = schedule(b2, b3, b0, b1);
      four_rounds(a, a2, t + 8);
      four_rounds(b, b2, t + 8);
      a3 = schedule(a3, a0, a1, a2);
      b3 = schedule(b3, b0, b1, b2);
      four_rounds(a, a3, t + 12);
      four_rounds(b, b3, t + 12);
    }
    a.abef = _mm_add_epi32(a.abef, saved_a.abef);
    a.cdgh = _mm_add_epi32(a.cdgh, saved_a.cdgh);
    b.abef = _mm_add_epi32(b.abef, saved_b.abef);
    b.cdgh = _mm_add_epi32(b.cdgh, saved_b.cdgh);
  }
  store_state(state_a, a);
  store_state(state_b, b);
}

bool sha256_shani_supported() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");
}

#undef MLOPS_SHA_TARGET

}  // namespace mlops::detail

#else  // not x86: the portable code is the only backend

namespace mlops::detail {

void sha256_blocks_shani(std::uint32_t*, const std::uint8_t*, std::size_t) noexcept {}
void sha256_blocks_shani_x2(std::uint32_t*, const std::uint8_t*, std::uint32_t*,
                            const std::uint8_t*, std::size_t) noexcept {}
MLOPS_SHA_TARGET void sha256_blocks_shani_x2(std::uint32_t* state_a, const std::uint8_t* data_a,
                                             std::uint32_t* state_b, const std::uint8_t* data_b,
                                             std::size_t blocks) noexcept {
  // Two independent messages: each round depends on the one before, so one
  // message leaves the SHA unit idle between dependent instructions, which the
  // other fills (the core interleaves the two chains).
  const __m128i big_endian = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  WorkingState a;
  WorkingState b;
  a.abef = _mm_set_epi32(static_cast<int>(state_a[0]), static_cast<int>(state_a[1]),
                         static_cast<int>(state_a[4]), static_cast<int>(state_a[5]));
  a.cdgh = _mm_set_epi32(static_cast<int>(state_a[2]), static_cast<int>(state_a[3]),
                         static_cast<int>(state_a[6]), static_cast<int>(state_a[7]));
  b.abef = _mm_set_epi32(static_cast<int>(state_b[0]), static_cast<int>(state_b[1]),
                         static_cast<int>(state_b[4]), static_cast<int>(state_b[5]));
  b.cdgh = _mm_set_epi32(static_cast<int>(state_b[2]), static_cast<int>(state_b[3]),
                         static_cast<int>(state_b[6]), static_cast<int>(state_b[7]));
  for (; blocks > 0; --blocks, data_a += 64, data_b += 64) {
    const WorkingState saved_a = a;
    const WorkingState saved_b = b;
    const auto* in_a = reinterpret_cast<const __m128i*>(data_a);  // NOLINT: unaligned loads
    const auto* in_b = reinterpret_cast<const __m128i*>(data_b);  // NOLINT: unaligned loads
    __m128i a0 = _mm_shuffle_epi8(_mm_loadu_si128(in_a), big_endian);
    __m128i b0 = _mm_shuffle_epi8(_mm_loadu_si128(in_b), big_endian);
    __m128i a1 = _mm_shuffle_epi8(_mm_loadu_si128(in_a + 1), big_endian);
    __m128i b1 = _mm_shuffle_epi8(_mm_loadu_si128(in_b + 1), big_endian);
    __m128i a2 = _mm_shuffle_epi8(_mm_loadu_si128(in_a + 2), big_endian);
    __m128i b2 = _mm_shuffle_epi8(_mm_loadu_si128(in_b + 2), big_endian);
    __m128i a3 = _mm_shuffle_epi8(_mm_loadu_si128(in_a + 3), big_endian);
    __m128i b3 = _mm_shuffle_epi8(_mm_loadu_si128(in_b + 3), big_endian);
    four_rounds(a, a0, 0);
    four_rounds(b, b0, 0);
    four_rounds(a, a1, 4);
    four_rounds(b, b1, 4);
    four_rounds(a, a2, 8);
    four_rounds(b, b2, 8);
    four_rounds(a, a3, 12);
    four_rounds(b, b3, 12);
    for (int t = 16; t < 64; t += 16) {
      a0 = schedule(a0, a1, a2, a3);
      b0 = schedule(b0, b1, b2, b3);
      four_rounds(a, a0, t);
      four_rounds(b, b0, t);
      a1 = schedule(a1, a2, a3, a0);
      b1 = schedule(b1, b2, b3, b0);
      four_rounds(a, a1, t + 4);
      four_rounds(b, b1, t + 4);
      a2 = schedule(a2, a3, a0, a1);
      b2 = schedule(b2, b3, b0, b1);
      four_rounds(a, a2, t + 8);
      four_rounds(b, b2, t + 8);
      a3 = schedule(a3, a0, a1, a2);
      b3 = schedule(b3, b0, b1, b2);
      four_rounds(a, a3, t + 12);
      four_rounds(b, b3, t + 12);
    }
    a.abef = _mm_add_epi32(a.abef, saved_a.abef);
    a.cdgh = _mm_add_epi32(a.cdgh, saved_a.cdgh);
    b.abef = _mm_add_epi32(b.abef, saved_b.abef);
    b.cdgh = _mm_add_epi32(b.cdgh, saved_b.cdgh);
  }
  store_state(state_a, a);
  store_state(state_b, b);
}

bool sha256_shani_supported() noexcept { return false; }

}  // namespace mlops::detail

#endif
