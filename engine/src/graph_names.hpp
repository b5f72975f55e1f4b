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

  std::optional<std::uint32_t> find(std::string_view name) const {
    if (slots_.empty()) return std::nullopt;
    const std::uint64_t hash = hash_of(name);
    for (std::size_t slot = hash & mask(); slots_[slot] != kEmpty; slot = (slot + 1) & mask()) {
      const std::uint32_t id = slots_[slot];
      if (hashes_[id] == hash && names_[id] == name) return id;
    }
    return std::nullopt;
  }

  // Returns the id of `name`, adding it if it is new.
  std::uint32_t intern(std::string_view name) {
    if (auto found = find(name)) return *found;
    // Grow at half load so probe sequences stay short.
    if ((names_.size() + 1) * 2 > slots_.size())
      rehash(std::max<std::size_t>(16, slots_.size() * 2));
    const auto id = static_cast<std::uint32_t>(names_.size());
    names_.emplace_back(name);
    hashes_.push_back(hash_of(name));
    place(id);
    return id;
  }

  void reserve(std::size_t count) {
    names_.reserve(count);
    hashes_.reserve(count);
    std::size_t wanted = 16;
    while (wanted < count * 2) wanted *= 2;
    if (wanted > slots_.size()) rehash(wanted);
  }

  // Forgets every name with id >= count (used to undo a failed bulk add).
  void truncate(std::size_t count) {
    if (count >= names_.size()) return;
    names_.resize(count);
    hashes_.resize(count);
    rehash(slots_.size());
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;

  static std::uint64_t hash_of(std::string_view name) {
    return std::hash<std::string_view>{}(name);
  }
  std::size_t mask() const noexcept { return slots_.size() - 1; }

  void place(std::uint32_t id) {
    std::size_t slot = hashes_[id] & mask();
    while (slots_[slot] != kEmpty) slot = (slot + 1) & mask();
    slots_[slot] = id;
  }

  void rehash(std::size_t capacity) {
    slots_.assign(capacity, kEmpty);
    for (std::uint32_t id = 0; id < names_.size(); ++id) place(id);
  }

  std::vector<std::string> names_;
  std::vector<std::uint64_t> hashes_;  // kept so that growing never rehashes strings
  std::vector<std::uint32_t> slots_;   // ids, or kEmpty
};

}  // namespace mlops::detail
