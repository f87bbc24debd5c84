// StopMatcher: released text never contains a stop string, and nothing is lost without one.
#include <random>

#include <gtest/gtest.h>

#include "engine/stop_matcher.h"

namespace llcuda {
namespace {

// Feeds `text` in pieces of random length and returns everything released.
std::string feed(StopMatcher& m, const std::string& text, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string out;
    for (size_t i = 0; i < text.size();) {
        const size_t n = 1 + rng() % 4;
        out += m.push(text.substr(i, n));
        i += n;
        if (m.stopped()) break;
    }
    return out + m.finish();
}

TEST(StopMatcher, CutsBeforeTheFirstStopStringWhateverThePieces) {
    const std::string text = "Hello there.\nUser: hi\nAssistant: yes";
    for (uint64_t seed = 0; seed < 50; ++seed) {
        StopMatcher m({"\nUser:", "Assistant"});
        EXPECT_EQ(feed(m, text, seed), text.substr(0, text.find("\nUser:"))) << seed;
        EXPECT_TRUE(m.stopped());
    }
}

TEST(StopMatcher, ReleasesEverythingWhenNoStopStringOccurs) {
    const std::string text = "a partial \nUse and \nUser without colon";
    for (uint64_t seed = 0; seed < 50; ++seed) {
        StopMatcher m({"\nUser:"});
        EXPECT_EQ(feed(m, text, seed), text);
        EXPECT_FALSE(m.stopped());
    }
}

TEST(StopMatcher, HoldsBackOnlyPossiblePrefixes) {
    StopMatcher m({"</s>"});
    EXPECT_EQ(m.push("abc<"), "abc");
    EXPECT_EQ(m.push("/"), "");
    EXPECT_EQ(m.push("x"), "</x");
}

}  // namespace
}  // namespace llcuda
