// Placeholder until the nf4 method lands: refuses clearly instead of failing to link.
#include "core/quant/methods.hpp"
#include "core/util/error.hpp"

namespace qs::quant {

std::unique_ptr<Method> makeNf4Method(const QuantConfig&)
{
    throw Error("method 'nf4' is not implemented yet");
}

} // namespace qs::quant
