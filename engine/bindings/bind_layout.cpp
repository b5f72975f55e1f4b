// Bindings of the layout area: layout, Layout and count_crossings. Arguments
// are converted while holding the GIL; the layout itself runs without it.
#include <nanobind/nanobind.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "mlops/layout.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace mlops::bindings {

namespace {

using Pair = std::pair<double, double>;
using Polyline = std::vector<Pair>;

LayoutDirection to_direction(const std::string& name) {
  if (name == "LR") return LayoutDirection::left_right;
  if (name == "TB") return LayoutDirection::top_bottom;
  throw std::invalid_argument("direction must be 'LR' or 'TB', not '" + name + "'");
}

std::vector<LayoutPoint> to_points(const Polyline& line) {
  std::vector<LayoutPoint> points;
  points.reserve(line.size());
  for (const auto& [x, y] : line) points.push_back({x, y});
  return points;
}

// What Python sees of a LayoutResult: plain lists and tuples.
struct PyLayout {
  std::vector<double> x;
  std::vector<double> y;
  std::vector<std::size_t> ranks;
  std::vector<Polyline> routes;
  double width = 0;
  double height = 0;
  std::size_t crossings = 0;
  std::size_t rank_count = 0;
};

PyLayout to_python(LayoutResult&& r) {
  PyLayout out{std::move(r.x), std::move(r.y), std::move(r.ranks), {},
               r.width,        r.height,       r.crossings,        r.rank_count};
  out.routes.reserve(r.routes.size());
  for (const auto& route : r.routes) {
    Polyline& line = out.routes.emplace_back();
    line.reserve(route.size());
    for (const LayoutPoint& p : route) line.emplace_back(p.x, p.y);
  }
  return out;
}

}  // namespace

void declare_layout(nb::module_& m) {
  nb::class_<PyLayout>(m, "Layout",
                       "Geometry of a layered drawing: box centres, ranks, edge routes, the "
                       "picture's size and its edge crossings. The picture spans "
                       "[0, width] x [0, height], y pointing down.")
      .def_ro("x", &PyLayout::x, "Box centres, x, per box.")
      .def_ro("y", &PyLayout::y, "Box centres, y, per box.")
      .def_ro("ranks", &PyLayout::ranks, "Per box, its rank along the flow (0 first).")
      .def_ro("routes", &PyLayout::routes,
              "Per edge, the (x, y) points of its polyline: from the source box's border, "
              "through two points per rank it passes, to the target box's border.")
      .def_ro("width", &PyLayout::width, "Width of the picture.")
      .def_ro("height", &PyLayout::height, "Height of the picture.")
      .def_ro("crossings", &PyLayout::crossings, "Edge crossings between consecutive ranks.")
      .def_ro("rank_count", &PyLayout::rank_count, "Number of ranks.")
      .def("__repr__", [](const PyLayout& l) {
        return "<Layout boxes=" + std::to_string(l.x.size()) +
               " ranks=" + std::to_string(l.rank_count) +
               " crossings=" + std::to_string(l.crossings) + ">";
      });

  m.def(
      "layout",
      [](const std::vector<Pair>& sizes,
         const std::vector<std::pair<std::size_t, std::size_t>>& edges,
         const std::string& direction, double node_gap, double rank_gap, double edge_gap,
         std::size_t max_sweeps) {
        LayoutInput input;
        input.widths.reserve(sizes.size());
        input.heights.reserve(sizes.size());
        for (const auto& [w, h] : sizes) {
          input.widths.push_back(w);
          input.heights.push_back(h);
        }
        input.edges = edges;
        input.options = {to_direction(direction), node_gap, rank_gap, edge_gap, max_sweeps};
        nb::gil_scoped_release release;
        return to_python(layout(input));
      },
      "sizes"_a, "edges"_a, nb::kw_only(), "direction"_a = "LR", "node_gap"_a = 24.0,
      "rank_gap"_a = 64.0, "edge_gap"_a = 10.0, "max_sweeps"_a = 24,
      "Lay out boxes, each (width, height), joined by directed edges (from, to) given by "
      "box index, flowing 'LR' (left to right) or 'TB' (top to bottom). Edges closing a "
      "cycle are drawn reversed. Deterministic. Raises ValueError for bad sizes, an edge "
      "to a missing box, a self-loop or a non-positive gap. Releases the GIL.");

  m.def(
      "count_crossings",
      [](const std::vector<Polyline>& polylines, std::vector<double> levels) {
        std::vector<std::vector<LayoutPoint>> lines;
        lines.reserve(polylines.size());
        for (const auto& line : polylines) lines.push_back(to_points(line));
        nb::gil_scoped_release release;
        std::sort(levels.begin(), levels.end());
        return count_crossings(lines, levels);
      },
      "polylines"_a, "levels"_a,
      "Crossings of polylines given as (along, across) points between consecutive rank "
      "lines at the flow coordinates `levels`: two polylines cross between two lines when "
      "their order differs at the lines (sharing an end is not a crossing). The one rule "
      "used to compare any two layered drawings. Releases the GIL.");
}

}  // namespace mlops::bindings
