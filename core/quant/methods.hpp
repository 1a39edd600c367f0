#pragma once
// Factories of the built-in methods (one file each); makeMethod picks by name.
#include "core/quant/method.hpp"

namespace qs::quant {

std::unique_ptr<Method> makeRtnMethod(const QuantConfig& config);
std::unique_ptr<Method> makeAbsmaxMethod(const QuantConfig& config);
std::unique_ptr<Method> makeNf4Method(const QuantConfig& config);
std::unique_ptr<Method> makeGptqMethod(const QuantConfig& config);
std::unique_ptr<Method> makeAwqMethod(const QuantConfig& config);
std::unique_ptr<Method> makeSmoothQuantMethod(const QuantConfig& config);

} // namespace qs::quant
