// Placeholder so the engine library has a translation unit before the areas land.
#include "mlops/errors.hpp"
