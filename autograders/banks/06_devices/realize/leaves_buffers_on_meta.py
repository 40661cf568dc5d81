# Gives new memory to the parameters only: the buffers (running statistics) stay on the meta device.
def realize(model, device="cpu"):
    for module in model.modules():
        for name, p in list(module._parameters.items()):
            if p is not None:
                module._parameters[name] = nn.Parameter(torch.empty_like(p, device=device),
                                                        requires_grad=p.requires_grad)
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return model
