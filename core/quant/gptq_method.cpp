// Placeholder until the gptq method lands: refuses clearly instead of failing to link.
#include "core/quant/methods.hpp"
#include "core/util/error.hpp"

namespace qs::quant {

std::unique_ptr<Method> makeGptqMethod(const QuantConfig&)
{
    throw Error("method 'gptq' is not implemented yet");
}

} // namespace qs::quant
