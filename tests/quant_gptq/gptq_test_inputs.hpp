#pragma once
// Fresh random inputs for the GPTQ solver tests: Gaussian matrices, a Hessian of correlated
// inputs, and a seed to print with a failure.
#include <Eigen/Dense>

#include <cmath>
#include <cstdint>
#include <random>

namespace qs::test {

inline Eigen::MatrixXd randomMatrix(int rows, int cols, std::mt19937_64& rng, double sd = 1.0)
{
    std::normal_distribution<double> g(0.0, sd);
    Eigen::MatrixXd m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i)
        m.data()[i] = g(rng);
    return m;
}

// H = 2/n X^T X for correlated inputs X = Z A with per-channel scales spread over 10x (as real
// activations have outlier channels).
inline Eigen::MatrixXd correlatedHessian(int k, int samples, std::mt19937_64& rng)
{
    const Eigen::MatrixXd z = randomMatrix(samples, k, rng);
    Eigen::MatrixXd a = Eigen::MatrixXd::Identity(k, k) + 0.3 * randomMatrix(k, k, rng);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (int c = 0; c < k; ++c)
        a.col(c) *= std::pow(10.0, u(rng));
    const Eigen::MatrixXd x = z * a;
    return (2.0 / samples) * x.transpose() * x;
}

inline std::uint64_t freshSeed() { return std::random_device{}() * 0x9E3779B97F4A7C15ull + std::random_device{}(); }

} // namespace qs::test
