// Placeholder until the graph bindings land (being written now); replaced, not kept.
#include "bindings.hpp"

namespace mlops::bindings {
void declare_graph(nanobind::module_& /*m*/) {}
}  // namespace mlops::bindings
