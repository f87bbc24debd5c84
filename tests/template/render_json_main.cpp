// template_render_json: renders a JSON array of {"template", "vars"} cases and prints a JSON
// array of {"out": text} or {"err": message}. Used by tests/oracles/template_differential.py to
// compare random templates and conversations against jinja2; not a unit test.
#include <fstream>
#include <iostream>
#include <sstream>

#include "llcuda/chat_template.h"
#include "llcuda/error.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: template_render_json CASES.json NOW_EPOCH\n";
        return 2;
    }
    std::ifstream f(argv[1], std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    auto cases = nlohmann::ordered_json::parse(ss.str());
    auto now = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(std::stoll(argv[2])));
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& c : cases) {
        nlohmann::ordered_json r = nlohmann::ordered_json::object();
        try {
            r["out"] = llcuda::ChatTemplate::parse(c.at("template").get<std::string>()).render(c.at("vars"), {}, now);
        } catch (const llcuda::Error& e) {
            r["err"] = e.what();
        }
        out.push_back(std::move(r));
    }
    std::cout << out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    return 0;
}
