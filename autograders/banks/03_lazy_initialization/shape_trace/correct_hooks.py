# Correct: forward hooks record each child's output; a pre-hook remembers which child is running
def shape_trace(net, example_input):
    trace, current = [], {}

    def make_hooks(name):
        def before(module, args):
            current["name"], current["shape"] = name, tuple(args[0].shape)

        def after(module, args, output):
            trace.append((name, tuple(int(s) for s in output.shape)))
        return before, after

    handles = []
    for name, child in net.named_children():
        before, after = make_hooks(name)
        handles.append(child.register_forward_pre_hook(before))
        handles.append(child.register_forward_hook(after))
    try:
        net(example_input)
    except Exception as err:
        raise ValueError(f"[{current.get('name')}] got input {list(current.get('shape', ()))} and failed") from err
    finally:
        for handle in handles:
            handle.remove()
    return trace
