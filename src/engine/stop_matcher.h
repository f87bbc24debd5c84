// Applies stop strings to streamed text: text that could still be the start of a stop string is
// held back until it is known not to be one, and a completed stop string ends the output before it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llcuda {

class StopMatcher {
public:
    explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

    // Adds text; returns what can be released now. After a stop string is found, stopped() is true
    // and nothing more is released.
    std::string push(std::string_view text) {
        if (stopped_) return {};
        held_ += text;
        size_t cut = std::string::npos;
        for (const auto& s : stops_) cut = std::min(cut, held_.find(s));
        if (cut != std::string::npos) {
            stopped_ = true;
            std::string out = held_.substr(0, cut);
            held_.clear();
            return out;
        }
        // Keep the longest suffix of held_ that is a proper prefix of some stop string.
        size_t keep = 0;
        for (const auto& s : stops_) {
            for (size_t n = std::min(s.size() - 1, held_.size()); n > keep; --n) {
                if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
                    keep = n;
                    break;
                }
            }
        }
        std::string out = held_.substr(0, held_.size() - keep);
        held_.erase(0, held_.size() - keep);
        return out;
    }
    // Releases what is held at the end of generation.
    std::string finish() {
        std::string out = stopped_ ? std::string() : held_;
        held_.clear();
        return out;
    }
    bool stopped() const { return stopped_; }

private:
    std::vector<std::string> stops_;
    std::string held_;
    bool stopped_ = false;
};

}  // namespace llcuda
