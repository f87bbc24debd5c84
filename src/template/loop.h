// The `loop` variable of for-loops and the namespace() object: the two jinja2 objects with
// attributes that chat templates use.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "template/value.h"

namespace llcuda::tmpl {

class LoopObject : public Object {
public:
    explicit LoopObject(std::shared_ptr<const std::vector<Value>> items) : items_(std::move(items)) {}
    size_t index0 = 0;

    std::string type_name() const override { return "LoopContext"; }
    Value get_attr(std::string_view name) override;
    std::string repr() const override;
    void clear() override { changed_->last = Value(); }

private:
    std::shared_ptr<const std::vector<Value>> items_;
    struct ChangedState {
        Value last;
        bool called = false;
    };
    // Shared with the loop.changed function values, which may outlive this object.
    std::shared_ptr<ChangedState> changed_ = std::make_shared<ChangedState>();
};

class Namespace : public Object {
public:
    Dict attrs;
    std::string type_name() const override { return "Namespace"; }
    Value get_attr(std::string_view name) override;
    void set_attr(const std::string& name, Value value) override;
    std::string repr() const override;
    void clear() override { attrs.items.clear(); }
};

}  // namespace llcuda::tmpl
