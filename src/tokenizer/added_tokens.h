// Added tokens (HF `added_tokens`; GGUF control and user-defined tokens) are cut out of the raw
// text before normalization, so "<|im_start|>" becomes one id instead of being spelled out.
// Matching is leftmost-longest, like HF's Aho-Corasick matcher: the earliest match wins, and of
// the matches starting there the longest. Special tokens are matched only when parse_special is
// on; non-special added tokens (user-defined) always are.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llcuda::tokenizer_detail {

struct AddedToken {
    int32_t id = -1;
    std::string content;
    bool special = true;
};

// A piece of input: an added token's id, or text (id == -1) still to be tokenized.
struct Segment {
    int32_t id;
    std::string_view text;
};

class AddedTokenMatcher {
public:
    void build(const std::vector<AddedToken>& tokens);
    std::vector<Segment> split(std::string_view text, bool parse_special) const;
    bool empty() const { return nodes_.size() <= 1; }

private:
    struct Node {
        std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
        int32_t token = -1;     // id ending here, -1 if none
        bool special = false;
    };
    int32_t child(int32_t node, unsigned char c) const;
    std::vector<Node> nodes_;
    bool first_byte_[256] = {};
};

}  // namespace llcuda::tokenizer_detail
