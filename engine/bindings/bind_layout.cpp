// Placeholder until the layout bindings land (being written now); replaced, not kept.
#include "bindings.hpp"

namespace mlops::bindings {
void declare_layout(nanobind::module_& /*m*/) {}
}  // namespace mlops::bindings
