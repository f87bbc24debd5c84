// The parser's class, shared by parser.cpp (statements) and parser_expr.cpp (expressions).
// Private to the template module; the entry point is parse_template() in parser.h.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "llcuda/error.h"
#include "template/ast.h"
#include "template/lexer.h"

namespace llcuda::tmpl {

constexpr int kMaxDepth = 200;  // nesting of expressions and blocks; deeper input is refused, not a stack overflow

class Parser {
public:
    explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

    Program run() {
        Program p;
        p.body = parse_body({});
        if (cur().type != Tok::Eof) error("unexpected tag '" + cur().text + "'");
        return p;
    }

private:
    std::vector<Token> t_;
    size_t i_ = 0;
    int depth_ = 0;
    int loop_depth_ = 0;

    struct DepthGuard {
        Parser& p;
        explicit DepthGuard(Parser& parser) : p(parser) {
            if (++p.depth_ > kMaxDepth) p.error("template nesting is too deep (limit " + std::to_string(kMaxDepth) + ")");
        }
        ~DepthGuard() { --p.depth_; }
    };

    const Token& cur() const { return t_[i_]; }
    const Token& peek(size_t n = 1) const { return t_[std::min(i_ + n, t_.size() - 1)]; }
    void next() {
        if (i_ + 1 < t_.size()) ++i_;
    }
    bool is_op(std::string_view op) const { return cur().type == Tok::Op && cur().text == op; }
    bool is_name(std::string_view n) const { return cur().type == Tok::Name && cur().text == n; }

    [[noreturn]] void error(const std::string& msg, ErrorKind kind = ErrorKind::FormatError) const { error_at(cur(), msg, kind); }
    [[noreturn]] static void error_at(const Token& t, const std::string& msg, ErrorKind kind = ErrorKind::FormatError) {
        throw Error(kind, "chat template " + position_text(t.line, t.col) + ": " + msg);
    }

    std::string describe(const Token& t) const {
        switch (t.type) {
            case Tok::Eof: return "end of template";
            case Tok::VarEnd: return "end of print statement";
            case Tok::BlockEnd: return "end of statement block";
            case Tok::String: return "string";
            default: return "'" + t.text + "'";
        }
    }

    void expect_op(std::string_view op) {
        if (!is_op(op)) error(fmt::format("expected '{}', got {}", op, describe(cur())));
        next();
    }
    std::string expect_name() {
        if (cur().type != Tok::Name) error("expected a name, got " + describe(cur()));
        std::string n = cur().text;
        next();
        return n;
    }
    void expect_block_end() {
        if (cur().type != Tok::BlockEnd) error("expected end of statement block, got " + describe(cur()));
        next();
    }

    ExprPtr make(ExprKind k, const Token& tok) {
        auto e = std::make_unique<Expr>();
        e->kind = k;
        e->line = tok.line;
        e->col = tok.col;
        return e;
    }
    StmtPtr make_stmt(StmtKind k, const Token& tok) {
        auto s = std::make_unique<Stmt>();
        s->kind = k;
        s->line = tok.line;
        s->col = tok.col;
        return s;
    }


    // Parses until `{% <one of end_tags>`; leaves the stream on that tag name.
    Body parse_body(std::initializer_list<std::string_view> end_tags);

    StmtPtr parse_statement();

    StmtPtr parse_if(const Token& tok);

    Target parse_target(bool allow_attr);

    StmtPtr parse_for(const Token& tok);

    StmtPtr parse_set(const Token& tok);

    void parse_params(Stmt& s);

    StmtPtr parse_macro(const Token& tok);

    StmtPtr parse_call_block(const Token& tok);

    StmtPtr parse_filter_block(const Token& tok);

    StmtPtr parse_with(const Token& tok);


    bool tuple_end(std::initializer_list<std::string_view> extra_end) const;

    // Comma-separated expressions become a tuple, as in `{{ a, b }}` or `for x in a, b`.
    ExprPtr parse_tuple(bool with_condexpr, std::initializer_list<std::string_view> extra_end = {}, bool explicit_parens = false);

    ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

    ExprPtr parse_condexpr();

    ExprPtr binary(const Token& tok, std::string op, ExprPtr l, ExprPtr r);

    ExprPtr parse_or();
    ExprPtr parse_and();
    ExprPtr parse_not();
    ExprPtr parse_compare();
    ExprPtr parse_math1();
    ExprPtr parse_concat();
    ExprPtr parse_math2();
    ExprPtr parse_pow();
    ExprPtr parse_unary(bool with_filter);

    ExprPtr parse_primary();

    ExprPtr parse_postfix(ExprPtr node);

    ExprPtr parse_filter_expr(ExprPtr node);

    ExprPtr parse_subscript(ExprPtr node);

    // One subscript: an expression or a slice start:stop:step (returned as a Slice without object).
    ExprPtr parse_subscribed();

    void parse_call_args(Expr& e);

    ExprPtr parse_call(ExprPtr node);

    std::string dotted_name();

    // `| name(args) | name2 ...`; with start_inline the first filter has no leading pipe.
    ExprPtr parse_filter_chain(ExprPtr node, bool start_inline = false);

    ExprPtr parse_test(ExprPtr node);
};

}  // namespace llcuda::tmpl
