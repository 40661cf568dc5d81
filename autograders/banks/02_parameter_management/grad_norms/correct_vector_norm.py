# Builds the dict in one comprehension with torch.linalg.vector_norm and float()
def grad_norms(net):
    return {
        name: (float(torch.linalg.vector_norm(param.grad)) if param.grad is not None else None)
        for name, param in net.named_parameters()
    }
