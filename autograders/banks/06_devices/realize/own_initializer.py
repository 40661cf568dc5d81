# Initializes every parameter with one initializer of its own instead of each layer's reset_parameters.
def realize(model, device="cpu"):
    model.to_empty(device=device)
    with torch.no_grad():
        for p in model.parameters():
            nn.init.normal_(p, std=0.02)
        for b in model.buffers():
            b.zero_()
    return model
