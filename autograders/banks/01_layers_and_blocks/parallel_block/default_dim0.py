# Uses dim=0 as the default: stacks the outputs along the batch dimension
class ParallelBlock(nn.Module):
    def __init__(self, *blocks, dim=0):
        super().__init__()
        if not blocks:
            raise ValueError("no block")
        self.blocks = nn.ModuleList(blocks)
        self.dim = dim

    def forward(self, X):
        return torch.cat([block(X) for block in self.blocks], dim=self.dim)
