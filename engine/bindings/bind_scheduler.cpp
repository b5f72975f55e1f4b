// Placeholder until the scheduler bindings land (being written now); replaced, not kept.
#include "bindings.hpp"

namespace mlops::bindings {
void declare_scheduler(nanobind::module_& /*m*/) {}
}  // namespace mlops::bindings
