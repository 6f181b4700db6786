namespace Rvpt.Backdoor;

/// <summary>What happens to patch values outside [0, 1] (CleanCLIP's "random" patch, the image mean plus N(0, 1) noise, has many).</summary>
public enum PatchOverflow
{
    /// <summary>
    /// As the published code's pipeline stores them: <c>ToPILImage</c> casts <c>255 v</c> to uint8, which truncates and
    /// wraps values outside [0, 1] modulo 256 (libtorch's float-to-uint8 conversion); the patch pixel becomes that byte
    /// divided by 255. The default.
    /// </summary>
    WrapAsUint8,

    /// <summary>Clamp to [0, 1].</summary>
    Clamp,
}
