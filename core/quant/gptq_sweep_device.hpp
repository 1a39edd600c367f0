#pragma once
// Internal: GPTQ's sweep with its large products on a backend (GptqOptions::productBackend),
// single precision; gptqQuantize calls it. Arguments are checked by the caller.
#include "core/quant/gptq_solver.hpp"

namespace qs::quant::detail {

GptqResult sweepWithBackend(const runtime::Mat& w, const GptqFactor& f, const GptqOptions& o, compute::Backend& backend);
GptqResult sweepWithBackend(const Eigen::MatrixXd& w, const GptqFactor& f, const GptqOptions& o,
                            compute::Backend& backend);

} // namespace qs::quant::detail
