// Private to the layout: the layered graph the phases share. Real boxes keep
// their input index; virtual points (one per rank a long edge passes) follow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "mlops/layout.hpp"

namespace mlops::layout_detail {

using Vertex = std::uint32_t;

struct LayeredGraph {
  std::size_t real_count = 0;
  std::vector<std::uint32_t> rank;          // per vertex
  std::vector<std::vector<Vertex>> up;      // neighbours one rank earlier
  std::vector<std::vector<Vertex>> down;    // neighbours one rank later
  std::vector<std::vector<Vertex>> layers;  // vertices of each rank, in drawing order
  std::vector<std::uint32_t> position;      // per vertex: index in its layer
  // Per input edge: the vertices it passes, earliest rank first, and whether
  // that is against the edge's direction (a reversed cycle edge).
  std::vector<std::vector<Vertex>> chains;
  std::vector<bool> reversed;

  bool is_virtual(Vertex v) const { return v >= real_count; }
  std::size_t vertex_count() const { return rank.size(); }
};

// Ranks: per box, 0-based along the flow, with every edge going from a lower
// rank to a higher one once `reversed` edges are turned around. Fills
// `reversed` (per edge) as well.
std::vector<std::uint32_t> assign_ranks(
    std::size_t box_count, const std::vector<std::pair<std::size_t, std::size_t>>& edges,
    std::vector<bool>& reversed);

// Builds the layered graph with virtual points; its layers are left empty
// for reduce_crossings to fill.
LayeredGraph build_layers(std::size_t box_count,
                          const std::vector<std::pair<std::size_t, std::size_t>>& edges,
                          std::vector<std::uint32_t> ranks, std::vector<bool> reversed);

// Reorders the layers to reduce crossings; returns the crossings left.
std::size_t reduce_crossings(LayeredGraph& g, std::size_t max_sweeps);

// Crossings between every pair of consecutive layers in the current order.
std::size_t count_layer_crossings(const LayeredGraph& g);

// Fills result.x, y, routes, width and height from the ordered layers.
void place(const LayeredGraph& g, const LayoutInput& input, LayoutResult& result);

}  // namespace mlops::layout_detail
