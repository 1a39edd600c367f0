// Placeholder until the absmax method lands: refuses clearly instead of failing to link.
#include "core/quant/methods.hpp"
#include "core/util/error.hpp"

namespace qs::quant {

std::unique_ptr<Method> makeAbsmaxMethod(const QuantConfig&)
{
    throw Error("method 'absmax' is not implemented yet");
}

} // namespace qs::quant
