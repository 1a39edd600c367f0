#pragma once
// Row-major f32 matrices: activations are [tokens][features], weights [out][in] as in HF.
#include <Eigen/Core>

namespace qs::runtime {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::VectorXf;

} // namespace qs::runtime
