// Parser; see parser.h. Grammar facts were taken from jinja2's documented behaviour and checked
// against jinja2 itself through the golden snippets.
#include "template/parser.h"

#include <fmt/format.h>

#include "llcuda/error.h"
#include "template/lexer.h"

namespace llcuda::tmpl {
namespace {

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

    template <class T>
    static std::unique_ptr<T> at(const Token& tok, std::unique_ptr<T> n) {
        n->line = tok.line;
        n->col = tok.col;
        return n;
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

    // ---- statements ------------------------------------------------------------------------

    // Parses until `{% <one of end_tags>`; leaves the stream on that tag name.
    Body parse_body(std::initializer_list<std::string_view> end_tags) {
        DepthGuard g(*this);
        Body body;
        while (true) {
            const Token& t = cur();
            if (t.type == Tok::Eof) {
                if (end_tags.size() == 0) return body;
                std::string names;
                for (auto n : end_tags) names += (names.empty() ? "'" : " or '") + std::string(n) + "'";
                error("unexpected end of template, expected " + names);
            }
            if (t.type == Tok::Data) {
                auto s = make_stmt(StmtKind::Text, t);
                s->text = t.text;
                body.push_back(std::move(s));
                next();
            } else if (t.type == Tok::VarBegin) {
                auto s = make_stmt(StmtKind::Print, t);
                next();
                s->expr = parse_tuple(true);
                if (cur().type != Tok::VarEnd) error("expected end of print statement, got " + describe(cur()));
                next();
                body.push_back(std::move(s));
            } else if (t.type == Tok::BlockBegin) {
                const Token& name = peek();
                if (name.type != Tok::Name) {
                    next();
                    error("tag name expected");
                }
                for (auto n : end_tags)
                    if (name.text == n) {
                        next();
                        return body;
                    }
                next();
                body.push_back(parse_statement());
            } else {
                error("unexpected " + describe(t));
            }
        }
    }

    StmtPtr parse_statement() {
        const Token tok = cur();
        const std::string& n = tok.text;
        next();
        if (n == "if") return parse_if(tok);
        if (n == "for") return parse_for(tok);
        if (n == "set") return parse_set(tok);
        if (n == "macro") return parse_macro(tok);
        if (n == "call") return parse_call_block(tok);
        if (n == "filter") return parse_filter_block(tok);
        if (n == "with") return parse_with(tok);
        if (n == "generation") {
            auto s = make_stmt(StmtKind::Scope, tok);
            expect_block_end();
            s->body = parse_body({"endgeneration"});
            next();
            expect_block_end();
            return s;
        }
        if (n == "break" || n == "continue") {
            if (loop_depth_ == 0) error_at(tok, "'" + n + "' outside of a loop");
            auto s = make_stmt(n == "break" ? StmtKind::Break : StmtKind::Continue, tok);
            expect_block_end();
            return s;
        }
        static const char* const unsupported[] = {"include", "extends", "block", "import", "from", "do",
                                                  "autoescape", "print", "trans", "pluralize"};
        for (const char* u : unsupported)
            if (n == u) error_at(tok, "unsupported template tag '" + n + "'", ErrorKind::Unsupported);
        error_at(tok, "encountered unknown tag '" + n + "'");
    }

    StmtPtr parse_if(const Token& tok) {
        auto s = make_stmt(StmtKind::If, tok);
        while (true) {
            ExprPtr cond = parse_tuple(false);
            expect_block_end();
            Body body = parse_body({"elif", "else", "endif"});
            s->branches.emplace_back(std::move(cond), std::move(body));
            std::string tag = cur().text;
            next();
            if (tag == "elif") continue;
            if (tag == "else") {
                expect_block_end();
                s->else_body = parse_body({"endif"});
                next();
            }
            break;
        }
        expect_block_end();
        return s;
    }

    Target parse_target(bool allow_attr) {
        Target t;
        bool paren = is_op("(");
        if (paren) next();
        while (true) {
            std::string name = expect_name();
            if (allow_attr && !paren && t.names.empty() && is_op(".")) {
                next();
                t.names.push_back(name);
                t.attr = expect_name();
                return t;
            }
            t.names.push_back(name);
            if (!is_op(",")) break;
            t.is_tuple = true;
            next();
            if (cur().type != Tok::Name) break;  // trailing comma
        }
        if (paren) {
            expect_op(")");
            if (t.names.size() > 1) t.is_tuple = true;
        }
        for (const auto& n : t.names)
            if (n == "true" || n == "false" || n == "none" || n == "True" || n == "False" || n == "None")
                error("cannot assign to constant '" + n + "'");
        return t;
    }

    StmtPtr parse_for(const Token& tok) {
        auto s = make_stmt(StmtKind::For, tok);
        s->target = parse_target(false);
        if (!is_name("in")) error("expected 'in', got " + describe(cur()));
        next();
        s->expr = parse_tuple(false, {"recursive"});
        if (is_name("if")) {
            next();
            s->filter = parse_expression(true);
        }
        if (is_name("recursive")) error("recursive loops are not supported", ErrorKind::Unsupported);
        expect_block_end();
        ++loop_depth_;
        s->body = parse_body({"endfor", "else"});
        --loop_depth_;
        if (cur().text == "else") {
            next();
            expect_block_end();
            s->else_body = parse_body({"endfor"});
        }
        next();
        expect_block_end();
        return s;
    }

    StmtPtr parse_set(const Token& tok) {
        Target target = parse_target(true);
        if (is_op("=")) {
            auto s = make_stmt(StmtKind::Set, tok);
            s->target = std::move(target);
            next();
            s->expr = parse_tuple(true);
            expect_block_end();
            return s;
        }
        if (target.is_tuple || !target.attr.empty()) error("expected '='");
        auto s = make_stmt(StmtKind::SetBlock, tok);
        s->target = std::move(target);
        if (is_op("|")) s->filter = parse_filter_chain(nullptr);
        expect_block_end();
        int saved = loop_depth_;
        loop_depth_ = 0;
        s->body = parse_body({"endset"});
        loop_depth_ = saved;
        next();
        expect_block_end();
        return s;
    }

    void parse_params(Stmt& s) {
        expect_op("(");
        while (!is_op(")")) {
            if (!s.params.empty()) expect_op(",");
            if (is_op(")")) break;
            s.params.push_back(expect_name());
            if (is_op("=")) {
                next();
                s.defaults.push_back(parse_expression(true));
            } else {
                if (!s.defaults.empty() && s.defaults.back()) error("non-default argument follows default argument");
                s.defaults.push_back(nullptr);
            }
        }
        next();
    }

    StmtPtr parse_macro(const Token& tok) {
        auto s = make_stmt(StmtKind::Macro, tok);
        s->text = expect_name();
        parse_params(*s);
        expect_block_end();
        int saved = loop_depth_;
        loop_depth_ = 0;
        s->body = parse_body({"endmacro"});
        loop_depth_ = saved;
        next();
        if (cur().type == Tok::Name && cur().text == s->text) next();  // `{% endmacro name %}`
        expect_block_end();
        return s;
    }

    StmtPtr parse_call_block(const Token& tok) {
        auto s = make_stmt(StmtKind::CallBlock, tok);
        if (is_op("(")) parse_params(*s);
        s->expr = parse_expression(true);
        if (s->expr->kind != ExprKind::Call) error_at(tok, "expected call");
        expect_block_end();
        int saved = loop_depth_;
        loop_depth_ = 0;
        s->body = parse_body({"endcall"});
        loop_depth_ = saved;
        next();
        expect_block_end();
        return s;
    }

    StmtPtr parse_filter_block(const Token& tok) {
        auto s = make_stmt(StmtKind::FilterBlock, tok);
        s->filter = parse_filter_chain(nullptr, true);
        expect_block_end();
        s->body = parse_body({"endfilter"});
        next();
        expect_block_end();
        return s;
    }

    StmtPtr parse_with(const Token& tok) {
        auto s = make_stmt(StmtKind::With, tok);
        while (cur().type != Tok::BlockEnd) {
            if (!s->params.empty()) expect_op(",");
            s->params.push_back(expect_name());
            expect_op("=");
            s->defaults.push_back(parse_expression(true));
        }
        expect_block_end();
        s->body = parse_body({"endwith"});
        next();
        expect_block_end();
        return s;
    }

    // ---- expressions -----------------------------------------------------------------------

    bool tuple_end(std::initializer_list<std::string_view> extra_end) const {
        const Token& t = cur();
        if (t.type == Tok::VarEnd || t.type == Tok::BlockEnd || t.type == Tok::Eof) return true;
        if (t.type == Tok::Op && t.text == ")") return true;
        if (t.type == Tok::Name)
            for (auto n : extra_end)
                if (t.text == n) return true;
        return false;
    }

    // Comma-separated expressions become a tuple, as in `{{ a, b }}` or `for x in a, b`.
    ExprPtr parse_tuple(bool with_condexpr, std::initializer_list<std::string_view> extra_end = {}, bool explicit_parens = false) {
        const Token start = cur();
        std::vector<ExprPtr> items;
        bool is_tuple = false;
        while (true) {
            if (!items.empty()) expect_op(",");
            if (tuple_end(extra_end)) break;
            items.push_back(with_condexpr ? parse_expression(true) : parse_or());
            if (is_op(",")) is_tuple = true;
            else break;
        }
        if (!is_tuple) {
            if (!items.empty()) return std::move(items[0]);
            if (!explicit_parens) error("expected an expression, got " + describe(cur()));
        }
        auto e = make(ExprKind::Tuple, start);
        e->args = std::move(items);
        return e;
    }

    ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

    ExprPtr parse_condexpr() {
        DepthGuard g(*this);
        ExprPtr expr1 = parse_or();
        while (is_name("if")) {
            auto e = make(ExprKind::Cond, cur());
            next();
            ExprPtr cond = parse_or();
            ExprPtr other;
            if (is_name("else")) {
                next();
                other = parse_condexpr();
            }
            e->args.push_back(std::move(cond));
            e->args.push_back(std::move(expr1));
            e->args.push_back(std::move(other));
            expr1 = std::move(e);
        }
        return expr1;
    }

    ExprPtr binary(const Token& tok, std::string op, ExprPtr l, ExprPtr r) {
        auto e = make(ExprKind::Binary, tok);
        e->name = std::move(op);
        e->args.push_back(std::move(l));
        e->args.push_back(std::move(r));
        return e;
    }

    ExprPtr parse_or() {
        ExprPtr l = parse_and();
        while (is_name("or")) {
            Token t = cur();
            next();
            l = binary(t, "or", std::move(l), parse_and());
        }
        return l;
    }
    ExprPtr parse_and() {
        ExprPtr l = parse_not();
        while (is_name("and")) {
            Token t = cur();
            next();
            l = binary(t, "and", std::move(l), parse_not());
        }
        return l;
    }
    ExprPtr parse_not() {
        if (is_name("not")) {
            DepthGuard g(*this);
            auto e = make(ExprKind::Not, cur());
            next();
            e->args.push_back(parse_not());
            return e;
        }
        return parse_compare();
    }
    ExprPtr parse_compare() {
        const Token start = cur();
        ExprPtr first = parse_math1();
        ExprPtr cmp;
        while (true) {
            std::string op;
            if (cur().type == Tok::Op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                          cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
                op = cur().text;
                next();
            } else if (is_name("in")) {
                op = "in";
                next();
            } else if (is_name("not") && peek().type == Tok::Name && peek().text == "in") {
                op = "notin";
                next();
                next();
            } else {
                break;
            }
            if (!cmp) {
                cmp = make(ExprKind::Compare, start);
                cmp->args.push_back(std::move(first));
            }
            cmp->ops.push_back(op);
            cmp->args.push_back(parse_math1());
        }
        return cmp ? std::move(cmp) : std::move(first);
    }
    ExprPtr parse_math1() {
        ExprPtr l = parse_concat();
        while (is_op("+") || is_op("-")) {
            Token t = cur();
            next();
            l = binary(t, t.text, std::move(l), parse_concat());
        }
        return l;
    }
    ExprPtr parse_concat() {
        ExprPtr l = parse_math2();
        while (is_op("~")) {
            Token t = cur();
            next();
            l = binary(t, "~", std::move(l), parse_math2());
        }
        return l;
    }
    ExprPtr parse_math2() {
        ExprPtr l = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            Token t = cur();
            next();
            l = binary(t, t.text, std::move(l), parse_pow());
        }
        return l;
    }
    ExprPtr parse_pow() {
        ExprPtr l = parse_unary(true);
        while (is_op("**")) {
            Token t = cur();
            next();
            l = binary(t, "**", std::move(l), parse_unary(true));
        }
        return l;
    }
    ExprPtr parse_unary(bool with_filter) {
        DepthGuard g(*this);
        ExprPtr node;
        if (is_op("-") || is_op("+")) {
            node = make(is_op("-") ? ExprKind::Neg : ExprKind::Pos, cur());
            next();
            node->args.push_back(parse_unary(false));
        } else {
            node = parse_primary();
        }
        node = parse_postfix(std::move(node));
        if (with_filter) node = parse_filter_expr(std::move(node));
        return node;
    }

    ExprPtr parse_primary() {
        DepthGuard g(*this);
        const Token t = cur();
        if (t.type == Tok::Name) {
            next();
            auto e = make(ExprKind::Const, t);
            if (t.text == "true" || t.text == "True") e->constant = Value::boolean(true);
            else if (t.text == "false" || t.text == "False") e->constant = Value::boolean(false);
            else if (t.text == "none" || t.text == "None") e->constant = Value::none();
            else {
                e->kind = ExprKind::Name;
                e->name = t.text;
            }
            return e;
        }
        if (t.type == Tok::String) {
            std::string s;
            while (cur().type == Tok::String) {  // adjacent literals concatenate
                s += cur().text;
                next();
            }
            auto e = make(ExprKind::Const, t);
            e->constant = Value::string(std::move(s));
            return e;
        }
        if (t.type == Tok::Int || t.type == Tok::Float) {
            next();
            auto e = make(ExprKind::Const, t);
            e->constant = t.type == Tok::Int ? Value::integer(t.ival) : Value::number(t.fval);
            return e;
        }
        if (is_op("(")) {
            next();
            ExprPtr e = parse_tuple(true, {}, true);
            expect_op(")");
            return e;
        }
        if (is_op("[")) {
            auto e = make(ExprKind::List, t);
            next();
            while (!is_op("]")) {
                if (!e->args.empty()) expect_op(",");
                if (is_op("]")) break;
                e->args.push_back(parse_expression(true));
            }
            next();
            return e;
        }
        if (is_op("{")) {
            auto e = make(ExprKind::Dict, t);
            next();
            while (!is_op("}")) {
                if (!e->args.empty()) expect_op(",");
                if (is_op("}")) break;
                e->args.push_back(parse_expression(true));
                expect_op(":");
                e->args.push_back(parse_expression(true));
            }
            next();
            return e;
        }
        error("unexpected " + describe(t));
    }

    ExprPtr parse_postfix(ExprPtr node) {
        while (true) {
            if (is_op(".") || is_op("[")) node = parse_subscript(std::move(node));
            else if (is_op("(")) node = parse_call(std::move(node));
            else return node;
        }
    }

    ExprPtr parse_filter_expr(ExprPtr node) {
        while (true) {
            if (is_op("|")) node = parse_filter_chain(std::move(node));
            else if (is_name("is")) node = parse_test(std::move(node));
            else if (is_op("(")) node = parse_call(std::move(node));
            else return node;
        }
    }

    ExprPtr parse_subscript(ExprPtr node) {
        DepthGuard g(*this);
        const Token t = cur();
        if (is_op(".")) {
            next();
            if (cur().type == Tok::Name) {
                auto e = make(ExprKind::Attr, t);
                e->name = cur().text;
                next();
                e->args.push_back(std::move(node));
                return e;
            }
            if (cur().type == Tok::Int) {
                auto e = make(ExprKind::Item, t);
                auto c = make(ExprKind::Const, cur());
                c->constant = Value::integer(cur().ival);
                next();
                e->args.push_back(std::move(node));
                e->args.push_back(std::move(c));
                return e;
            }
            error("expected name or number");
        }
        next();  // '['
        std::vector<ExprPtr> subs;
        while (!is_op("]")) {
            if (!subs.empty()) {
                expect_op(",");
                if (is_op("]")) break;
            }
            subs.push_back(parse_subscribed());
        }
        next();
        if (subs.empty()) error_at(t, "expected subscript expression");
        if (subs.size() == 1 && subs[0]->kind == ExprKind::Slice) {
            subs[0]->args.insert(subs[0]->args.begin(), std::move(node));
            return std::move(subs[0]);
        }
        auto e = make(ExprKind::Item, t);
        e->args.push_back(std::move(node));
        if (subs.size() == 1) {
            e->args.push_back(std::move(subs[0]));
        } else {
            for (auto& s : subs)
                if (s->kind == ExprKind::Slice) error_at(t, "multi-dimensional slicing is not supported", ErrorKind::Unsupported);
            auto tup = make(ExprKind::Tuple, t);
            tup->args = std::move(subs);
            e->args.push_back(std::move(tup));
        }
        return e;
    }

    // One subscript: an expression or a slice start:stop:step (returned as a Slice without object).
    ExprPtr parse_subscribed() {
        const Token t = cur();
        ExprPtr start;
        if (!is_op(":")) {
            start = parse_expression(true);
            if (!is_op(":")) return start;
        }
        next();  // ':'
        auto e = make(ExprKind::Slice, t);
        ExprPtr stop, step;
        if (!is_op("]") && !is_op(",") && !is_op(":")) stop = parse_expression(true);
        if (is_op(":")) {
            next();
            if (!is_op("]") && !is_op(",")) step = parse_expression(true);
        }
        e->args.push_back(std::move(start));
        e->args.push_back(std::move(stop));
        e->args.push_back(std::move(step));
        return e;
    }

    void parse_call_args(Expr& e) {
        expect_op("(");
        bool first = true;
        while (!is_op(")")) {
            if (!first) {
                expect_op(",");
                if (is_op(")")) break;
            }
            first = false;
            if (is_op("*") || is_op("**")) error("*args and **kwargs in calls are not supported", ErrorKind::Unsupported);
            if (cur().type == Tok::Name && peek().type == Tok::Op && peek().text == "=") {
                e.kwnames.push_back(cur().text);
                next();
                next();
                e.kwargs.push_back(parse_expression(true));
            } else {
                if (!e.kwargs.empty()) error("positional argument follows keyword argument");
                e.args.push_back(parse_expression(true));
            }
        }
        next();
    }

    ExprPtr parse_call(ExprPtr node) {
        DepthGuard g(*this);
        auto e = make(ExprKind::Call, cur());
        e->line = node->line;  // errors inside a call point at the callee, e.g. raise_exception
        e->col = node->col;
        e->args.push_back(std::move(node));
        parse_call_args(*e);
        return e;
    }

    std::string dotted_name() {
        std::string n = expect_name();
        while (is_op(".")) {
            next();
            n += "." + expect_name();
        }
        return n;
    }

    // `| name(args) | name2 ...`; with start_inline the first filter has no leading pipe.
    ExprPtr parse_filter_chain(ExprPtr node, bool start_inline = false) {
        DepthGuard g(*this);
        while (is_op("|") || start_inline) {
            if (!start_inline) next();
            start_inline = false;
            auto e = make(ExprKind::Filter, cur());
            e->name = dotted_name();
            e->args.push_back(std::move(node));
            if (is_op("(")) parse_call_args(*e);
            node = std::move(e);
        }
        return node;
    }

    ExprPtr parse_test(ExprPtr node) {
        DepthGuard g(*this);
        auto e = make(ExprKind::Test, cur());
        next();  // 'is'
        if (is_name("not")) {
            next();
            e->negated = true;
        }
        e->name = dotted_name();
        e->args.push_back(std::move(node));
        const Token& t = cur();
        if (is_op("(")) {
            parse_call_args(*e);
        } else if ((t.type == Tok::Name || t.type == Tok::String || t.type == Tok::Int || t.type == Tok::Float ||
                    is_op("(") || is_op("[") || is_op("{")) &&
                   !(t.type == Tok::Name && (t.text == "else" || t.text == "or" || t.text == "and"))) {
            if (is_name("is")) error("You cannot chain multiple tests with is");
            ExprPtr arg = parse_postfix(parse_primary());
            e->args.push_back(std::move(arg));
        }
        return e;
    }
};

}  // namespace

Program parse_template(std::string_view source) { return Parser(lex(source)).run(); }

}  // namespace llcuda::tmpl
