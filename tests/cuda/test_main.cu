// test_cuda_ops: every registered op case as a gtest (GPU result against the CPU reference).
#include <gtest/gtest.h>

#include "harness.h"

using namespace llcuda::cuda::test;

namespace {

class OpCaseTest : public ::testing::Test {
public:
    explicit OpCaseTest(const OpCase* c) : c_(c) {}
    void TestBody() override {
        const CaseResult r = c_->run(false);
        EXPECT_LE(r.error, c_->tolerance) << c_->family << " / " << c_->name << ": normalized error " << r.error
                                          << " over tolerance " << c_->tolerance;
    }

private:
    const OpCase* c_;
};

std::string test_name(const std::string& s) {
    std::string out;
    for (char ch : s) out += (std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    for (const OpCase& c : op_case_registry()) {
        ::testing::RegisterTest(test_name(c.family).c_str(), test_name(c.name).c_str(), nullptr, nullptr, __FILE__,
                                __LINE__, [&c]() -> ::testing::Test* { return new OpCaseTest(&c); });
    }
    return RUN_ALL_TESTS();
}
