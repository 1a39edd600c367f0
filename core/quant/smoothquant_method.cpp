// Placeholder until the smoothquant method lands: refuses clearly instead of failing to link.
#include "core/quant/methods.hpp"
#include "core/util/error.hpp"

namespace qs::quant {

std::unique_ptr<Method> makeSmoothQuantMethod(const QuantConfig&)
{
    throw Error("method 'smoothquant' is not implemented yet");
}

} // namespace qs::quant
