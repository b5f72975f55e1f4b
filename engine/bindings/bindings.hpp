// One declare_* function per engine area, each in its own bind_*.cpp file.
#pragma once

#include <nanobind/nanobind.h>

namespace mlops::bindings {

void declare_graph(nanobind::module_& m);      // bind_graph.cpp: Graph, fingerprints, plan
void declare_scheduler(nanobind::module_& m);  // bind_scheduler.cpp: NodeState, Scheduler
void declare_layout(nanobind::module_& m);     // bind_layout.cpp: layered DAG layout

}  // namespace mlops::bindings
