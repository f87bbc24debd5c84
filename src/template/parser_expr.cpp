// Parser, expressions part: jinja2's precedence climbing (condexpr, or, and, not, compare, + -,
// ~, * / // %, **, unary, primary, postfix, filters and tests).
#include "template/parser_impl.h"

namespace llcuda::tmpl {

bool Parser::tuple_end(std::initializer_list<std::string_view> extra_end) const {
    const Token& t = cur();
    if (t.type == Tok::VarEnd || t.type == Tok::BlockEnd || t.type == Tok::Eof) return true;
    if (t.type == Tok::Op && t.text == ")") return true;
    if (t.type == Tok::Name)
        for (auto n : extra_end)
            if (t.text == n) return true;
    return false;
}

// Comma-separated expressions become a tuple, as in `{{ a, b }}` or `for x in a, b`.
ExprPtr Parser::parse_tuple(bool with_condexpr, std::initializer_list<std::string_view> extra_end, bool explicit_parens) {
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

ExprPtr Parser::parse_condexpr() {
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

ExprPtr Parser::binary(const Token& tok, std::string op, ExprPtr l, ExprPtr r) {
    auto e = make(ExprKind::Binary, tok);
    e->name = std::move(op);
    e->args.push_back(std::move(l));
    e->args.push_back(std::move(r));
    return e;
}

ExprPtr Parser::parse_or() {
    ExprPtr l = parse_and();
    while (is_name("or")) {
        Token t = cur();
        next();
        l = binary(t, "or", std::move(l), parse_and());
    }
    return l;
}

ExprPtr Parser::parse_and() {
    ExprPtr l = parse_not();
    while (is_name("and")) {
        Token t = cur();
        next();
        l = binary(t, "and", std::move(l), parse_not());
    }
    return l;
}

ExprPtr Parser::parse_not() {
    if (is_name("not")) {
        DepthGuard g(*this);
        auto e = make(ExprKind::Not, cur());
        next();
        e->args.push_back(parse_not());
        return e;
    }
    return parse_compare();
}

ExprPtr Parser::parse_compare() {
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

ExprPtr Parser::parse_math1() {
    ExprPtr l = parse_concat();
    while (is_op("+") || is_op("-")) {
        Token t = cur();
        next();
        l = binary(t, t.text, std::move(l), parse_concat());
    }
    return l;
}

ExprPtr Parser::parse_concat() {
    ExprPtr l = parse_math2();
    while (is_op("~")) {
        Token t = cur();
        next();
        l = binary(t, "~", std::move(l), parse_math2());
    }
    return l;
}

ExprPtr Parser::parse_math2() {
    ExprPtr l = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
        Token t = cur();
        next();
        l = binary(t, t.text, std::move(l), parse_pow());
    }
    return l;
}

ExprPtr Parser::parse_pow() {
    ExprPtr l = parse_unary(true);
    while (is_op("**")) {
        Token t = cur();
        next();
        l = binary(t, "**", std::move(l), parse_unary(true));
    }
    return l;
}

ExprPtr Parser::parse_unary(bool with_filter) {
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

ExprPtr Parser::parse_primary() {
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

ExprPtr Parser::parse_postfix(ExprPtr node) {
    while (true) {
        if (is_op(".") || is_op("[")) node = parse_subscript(std::move(node));
        else if (is_op("(")) node = parse_call(std::move(node));
        else return node;
    }
}

ExprPtr Parser::parse_filter_expr(ExprPtr node) {
    while (true) {
        if (is_op("|")) node = parse_filter_chain(std::move(node));
        else if (is_name("is")) node = parse_test(std::move(node));
        else if (is_op("(")) node = parse_call(std::move(node));
        else return node;
    }
}

// A slice from parse_subscribed() has no object yet (3 parts); `l[::-1]` inside a subscript is a
// complete slice expression (4 parts) and an ordinary index value.
static bool is_bare_slice(const Expr& e) { return e.kind == ExprKind::Slice && e.args.size() == 3; }

ExprPtr Parser::parse_subscript(ExprPtr node) {
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
    if (subs.size() == 1 && is_bare_slice(*subs[0])) {
        subs[0]->args.insert(subs[0]->args.begin(), std::move(node));
        return std::move(subs[0]);
    }
    auto e = make(ExprKind::Item, t);
    e->args.push_back(std::move(node));
    if (subs.size() == 1) {
        e->args.push_back(std::move(subs[0]));
    } else {
        for (auto& s : subs)
            if (is_bare_slice(*s)) error_at(t, "multi-dimensional slicing is not supported", ErrorKind::Unsupported);
        auto tup = make(ExprKind::Tuple, t);
        tup->args = std::move(subs);
        e->args.push_back(std::move(tup));
    }
    return e;
}

// One subscript: an expression or a slice start:stop:step (returned as a Slice without object).
ExprPtr Parser::parse_subscribed() {
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

void Parser::parse_call_args(Expr& e) {
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

ExprPtr Parser::parse_call(ExprPtr node) {
    DepthGuard g(*this);
    auto e = make(ExprKind::Call, cur());
    e->line = node->line;  // errors inside a call point at the callee, e.g. raise_exception
    e->col = node->col;
    e->args.push_back(std::move(node));
    parse_call_args(*e);
    return e;
}

std::string Parser::dotted_name() {
    std::string n = expect_name();
    while (is_op(".")) {
        next();
        n += "." + expect_name();
    }
    return n;
}

// `| name(args) | name2 ...`; with start_inline the first filter has no leading pipe.
ExprPtr Parser::parse_filter_chain(ExprPtr node, bool start_inline) {
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

ExprPtr Parser::parse_test(ExprPtr node) {
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

}  // namespace llcuda::tmpl
