// Parser, statements part; see parser.h. Grammar facts were taken from jinja2's documented
// behaviour and checked against jinja2 itself through the golden snippets.
#include "template/parser.h"

#include "template/parser_impl.h"

namespace llcuda::tmpl {

// Parses until `{% <one of end_tags>`; leaves the stream on that tag name.
Body Parser::parse_body(std::initializer_list<std::string_view> end_tags) {
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

StmtPtr Parser::parse_statement() {
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

StmtPtr Parser::parse_if(const Token& tok) {
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

Target Parser::parse_target(bool allow_attr) {
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

StmtPtr Parser::parse_for(const Token& tok) {
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

StmtPtr Parser::parse_set(const Token& tok) {
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

void Parser::parse_params(Stmt& s) {
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

StmtPtr Parser::parse_macro(const Token& tok) {
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

StmtPtr Parser::parse_call_block(const Token& tok) {
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

StmtPtr Parser::parse_filter_block(const Token& tok) {
    auto s = make_stmt(StmtKind::FilterBlock, tok);
    s->filter = parse_filter_chain(nullptr, true);
    expect_block_end();
    s->body = parse_body({"endfilter"});
    next();
    expect_block_end();
    return s;
}

StmtPtr Parser::parse_with(const Token& tok) {
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

Program parse_template(std::string_view source) { return Parser(lex(source)).run(); }

}  // namespace llcuda::tmpl
