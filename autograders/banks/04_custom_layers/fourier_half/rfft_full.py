# Returns torch.fft.rfft(X): n // 2 + 1 coefficients, one too many for even n, and no complex inputs.
class FourierHalf(nn.Module):
    def forward(self, X):
        return torch.fft.rfft(X, dim=-1)
