// One declare_* function per engine area, each in its own bind_*.cpp file.
#pragma once

#include <nanobind/nanobind.h>

#include <cstddef>
#include <vector>

namespace mlops::bindings {

void declare_graph(nanobind::module_& m);      // bind_graph.cpp: Graph, fingerprints, plan
void declare_scheduler(nanobind::module_& m);  // bind_scheduler.cpp: NodeState, Scheduler
void declare_layout(nanobind::module_& m);     // bind_layout.cpp: layered DAG layout

// The names of `values` as a list of str, with one str object per distinct
// value: a list of 10k enum members costs a Python object and a name lookup
// per entry. `name_of(value)` gives a value's name; values are below `count`.
template <typename Enum, typename NameOf>
nanobind::list names_list(const std::vector<Enum>& values, std::size_t count, NameOf name_of) {
  std::vector<nanobind::object> names(count);
  nanobind::list out;
  for (const Enum value : values) {
    nanobind::object& name = names[static_cast<std::size_t>(value)];
    if (!name.is_valid()) name = nanobind::str(name_of(value));
    out.append(name);
  }
  return out;
}

}  // namespace mlops::bindings
