// Interned names with dense ids: the graph keeps every node, dataset, tag and
// parameter name once, and looks them up through a flat open-addressing index
// of ids (no per-entry heap node, unlike std::unordered_map).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlops::detail {

class NameTable {
 public:
  std::size_t size() const noexcept { return names_.size(); }
  const std::string& name(std::uint32_t id) const { return names_[id]; }
  const std::vector<std::string>& names() const noexcept { return names_; }

  // Callers that look a name up more than once (check, then add) hash it once.
  static std::uint64_t hash_of(std::string_view name) noexcept {
    return std::hash<std::string_view>{}(name);
  }

  std::optional<std::uint32_t> find(std::string_view name) const {
    return find(name, hash_of(name));
  }
  std::optional<std::uint32_t> find(std::string_view name, std::uint64_t hash) const {
    if (slots_.empty()) return std::nullopt;
    const std::uint64_t tag = hash >> 32;
    for (std::size_t slot = hash & mask(); slots_[slot] != kEmpty; slot = (slot + 1) & mask()) {
      const std::uint64_t entry = slots_[slot];
      const auto id = static_cast<std::uint32_t>(entry);
      if ((entry >> 32) == tag && names_[id] == name) return id;
    }
    return std::nullopt;
  }

  // Lookups in a large table are cache misses (the slot, then the name it
  // points to); a caller with several names to look up starts all the loads
  // first so that they overlap: prefetch_slot() for each, then prefetch_name().
  // Worth it only once the table outgrows the caches.
  bool large() const noexcept { return slots_.size() >= kLargeSlots; }
  void prefetch_slot(std::uint64_t hash) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(slots_.data() + (hash & mask()));
  }
  void prefetch_name(std::uint64_t hash) const noexcept {
    if (slots_.empty()) return;
    const std::uint64_t tag = hash >> 32;
    for (std::size_t slot = hash & mask(); slots_[slot] != kEmpty; slot = (slot + 1) & mask()) {
      if ((slots_[slot] >> 32) == tag) {
        __builtin_prefetch(names_.data() + static_cast<std::uint32_t>(slots_[slot]));
        return;
      }
    }
  }

  // Returns the id of `name` (whose hash_of is `hash`), adding it if it is new.
  std::uint32_t intern(std::string_view name) { return intern(name, hash_of(name)); }
  std::uint32_t intern(std::string_view name, std::uint64_t hash) {
    if (auto found = find(name, hash)) return *found;
    return insert_new(name, hash);
  }

  // Adds a name the caller knows is new (skips the lookup).
  std::uint32_t insert_new(std::string_view name) { return insert_new(name, hash_of(name)); }
  std::uint32_t insert_new(std::string_view name, std::uint64_t hash) {
    // Grow at 3/4 load: linear probing stays short, and the table stays small.
    if ((names_.size() + 1) * 4 > slots_.size() * 3) {
      rehash(std::max<std::size_t>(16, slots_.size() * 2));
    }
    const auto id = static_cast<std::uint32_t>(names_.size());
    names_.emplace_back(name);
    place(id, hash);
    return id;
  }

  void reserve(std::size_t count) {
    names_.reserve(count);
    std::size_t wanted = 16;
    while (wanted * 3 < count * 4) wanted *= 2;
    if (wanted > slots_.size()) rehash(wanted);
  }

  // Forgets every name with id >= count (used to undo a failed bulk add).
  void truncate(std::size_t count) {
    if (count >= names_.size()) return;
    names_.resize(count);
    rehash(slots_.size());
  }

 private:
  // A slot holds (upper 32 bits of the hash) << 32 | id, so most mismatches
  // are rejected without touching the name.
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  static constexpr std::size_t kLargeSlots = std::size_t{1} << 18;  // 2 MiB of slots

  std::size_t mask() const noexcept { return slots_.size() - 1; }

  void place(std::uint32_t id, std::uint64_t hash) {
    std::size_t slot = hash & mask();
    while (slots_[slot] != kEmpty) slot = (slot + 1) & mask();
    slots_[slot] = ((hash >> 32) << 32) | id;
  }

  void rehash(std::size_t capacity) {
    slots_.assign(capacity, kEmpty);
    for (std::uint32_t id = 0; id < names_.size(); ++id) place(id, hash_of(names_[id]));
  }

  std::vector<std::string> names_;
  std::vector<std::uint64_t> slots_;
};

}  // namespace mlops::detail
