namespace Rvpt.Clip;

/// <summary>The activation used in the MLP of every residual block.</summary>
public enum ClipActivation
{
    /// <summary><c>x * sigmoid(1.702 x)</c>, used by OpenAI's CLIP checkpoints (and OpenCLIP's <c>-quickgelu</c> models).</summary>
    QuickGelu,

    /// <summary>Exact (erf) GELU, used by most OpenCLIP models trained from scratch.</summary>
    Gelu,
}
