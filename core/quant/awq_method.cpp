// Placeholder until the awq method lands: refuses clearly instead of failing to link.
#include "core/quant/methods.hpp"
#include "core/util/error.hpp"

namespace qs::quant {

std::unique_ptr<Method> makeAwqMethod(const QuantConfig&)
{
    throw Error("method 'awq' is not implemented yet");
}

} // namespace qs::quant
