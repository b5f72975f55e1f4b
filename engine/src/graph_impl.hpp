// The Graph's private state, shared by the graph_*.cpp files.
//
// Everything is a flat array indexed by dense ids. Per-node lists (inputs,
// outputs, params, tags) live in one array each with an offsets array, which
// works because nodes are only ever appended. The readers of each dataset are
// kept as an intrusive linked list through the input entries, so adding a
// node never allocates per dataset. Derived views that need contiguous lists
// (consumers, topological order) are built lazily and cached.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "graph_names.hpp"
#include "mlops/graph.hpp"

namespace mlops::detail {

inline constexpr std::uint32_t kNone = 0xFFFFFFFFu;

// The graph's own data: copyable as a whole.
struct GraphData {
  NameTable nodes;
  NameTable datasets;
  NameTable tag_names;
  NameTable param_names;

  // Input entries of node n are [in_begin[n], in_begin[n + 1]).
  std::vector<std::uint32_t> in_begin{0};
  std::vector<DatasetId> in_dataset;
  std::vector<NodeId> in_owner;        // the node an input entry belongs to
  std::vector<std::uint32_t> in_next;  // next input entry reading the same dataset, or kNone
  std::vector<std::uint32_t> out_begin{0};
  std::vector<DatasetId> out_dataset;
  std::vector<std::uint32_t> param_begin{0};
  std::vector<std::uint32_t> param_id;
  std::vector<std::uint32_t> tag_begin{0};
  std::vector<std::uint32_t> tag_id;
  std::vector<std::uint8_t> concept_step;
  std::vector<double> cost;

  std::vector<NodeId> producer;             // per dataset, kNone when nobody produces it
  std::vector<std::uint32_t> first_reader;  // per dataset: head input entry, or kNone

  // A topological labelling kept up to date as nodes arrive (Pearce-Kelly):
  // every edge u -> v has label[u] < label[v]. It lets add_node rule out a
  // cycle without searching when the new node fits between its neighbours.
  std::vector<std::uint64_t> label;
  std::uint64_t min_label = 0;
  std::uint64_t max_label = 0;

  std::size_t edge_count = 0;

  std::size_t node_count() const noexcept { return concept_step.size(); }

  std::span<const DatasetId> inputs(NodeId n) const {
    return {in_dataset.data() + in_begin[n], in_dataset.data() + in_begin[n + 1]};
  }
  std::span<const DatasetId> outputs(NodeId n) const {
    return {out_dataset.data() + out_begin[n], out_dataset.data() + out_begin[n + 1]};
  }

  // Calls f(child) for every input entry that reads one of n's outputs (a
  // child reading two of them is visited twice).
  template <typename F>
  void for_each_child(NodeId n, F&& f) const {
    for (DatasetId d : outputs(n)) {
      for (std::uint32_t e = first_reader[d]; e != kNone; e = in_next[e]) f(in_owner[e]);
    }
  }
  template <typename F>
  void for_each_parent(NodeId n, F&& f) const {
    for (DatasetId d : inputs(n)) {
      if (producer[d] != kNone) f(producer[d]);
    }
  }
};

// Caches derived from GraphData; rebuilt on first use after a change.
struct DerivedViews {
  std::vector<std::uint32_t> consumer_begin;  // per dataset, CSR over consumer_node
  std::vector<NodeId> consumer_node;          // ascending, deduplicated per dataset
  std::vector<NodeId> topo_order;             // Kahn, ties by id
  std::vector<std::uint32_t> topo_position;   // per node: index in topo_order
};

}  // namespace mlops::detail

namespace mlops {

struct Graph::Impl {
  detail::GraphData data;

  // Scratch for add_node's searches: a visit stamp per node avoids clearing.
  std::vector<std::uint32_t> mark;
  std::vector<NodeId> via;
  std::uint32_t stamp = 0;
  // Per add_node, the ids of the spec's datasets found by the checks (kNone
  // for new ones and for parameters), so each name is looked up once.
  std::vector<std::uint32_t> input_ids;
  std::vector<std::uint32_t> output_ids;
  // Per add_node, the hashes of the spec's names (NameTable::hash_of; 0 for
  // parameters), computed once for both the checks and the insertion.
  std::uint64_t name_hash = 0;
  std::vector<std::uint64_t> input_hashes;
  std::vector<std::uint64_t> output_hashes;
  std::vector<NodeId> new_parents;
  std::vector<NodeId> new_children;

  // Taken exclusively by add_node, shared by the whole-graph readers (graph.hpp).
  mutable std::shared_mutex mutex;
  mutable std::mutex views_mutex;
  mutable std::atomic<bool> views_ready{false};
  mutable detail::DerivedViews views;

  Impl() = default;
  Impl(const Impl& other) : data(other.data) {}

  const detail::DerivedViews& derived() const;  // thread-safe lazy build
  // Nodes reachable from `start` (excluded), in topological order.
  std::vector<NodeId> reach(std::span<const NodeId> start, bool forward) const;
  void invalidate() { views_ready.store(false, std::memory_order_release); }

  NodeId add(const NodeSpec& spec);  // add_node without the lock

  std::uint32_t next_stamp();
  // Fills name_hash, input_hashes and output_hashes, and starts loading the
  // table entries the checks will read.
  void hash_names(const NodeSpec& spec);
  // Checks spec against the graph without changing it; throws on an error.
  void check(const NodeSpec& spec);
  NodeId append(const NodeSpec& spec);
  void truncate(std::size_t nodes, std::size_t datasets);
  void relabel();
  // Places the node being added (id = node_count()) in the labelling, moving
  // others if needed; throws CycleError if it closes a cycle.
  std::uint64_t place(std::span<const NodeId> parents, std::span<const NodeId> children,
                      std::string_view name);
};

}  // namespace mlops
