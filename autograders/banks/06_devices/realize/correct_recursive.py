# Resets the tree recursively, parents before their children, after to_empty.
def realize(model, device="cpu"):
    def reset_tree(module):
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
        for child in module.children():
            reset_tree(child)

    model.to_empty(device=device)
    reset_tree(model)
    return model
