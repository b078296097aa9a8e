using System.Security.Cryptography;
using System.Text;

namespace Kiteflow.Core.Planning;

/// <summary>
/// Delivery ids mark each create-build request (<c>meta_data.kiteflow_delivery_id</c>) so that after
/// an ambiguous failure the build can be looked up before anything is resent. They must be unique to
/// a batch and the same on every attempt and every rerun of the same command.
/// </summary>
public static class DeliveryIds
{
    /// <summary>
    /// A key for one (destination, input) pair: the first 16 hex digits of SHA-256 over the
    /// destination file's bytes and the input's full path. The same command gets the same key.
    /// </summary>
    public static string RunKey(ReadOnlySpan<byte> destinationFile, string inputPath)
    {
        ArgumentNullException.ThrowIfNull(inputPath);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(destinationFile);
        hash.AppendData([0]);
        hash.AppendData(Encoding.UTF8.GetBytes(inputPath == "-" ? "-" : Path.GetFullPath(inputPath)));
        return "kf" + Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, 8));
    }

    /// <summary>
    /// A key no other run has: for an input that cannot be read again (standard input), whose records differ from
    /// one run to the next, so that no run is taken for the resumption of another.
    /// </summary>
    public static string NewRunKey() => "kf" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>
    /// The delivery-id prefix of a run's <paramref name="generation"/>: the run key at first, then <c>{run key}.{n}</c>
    /// after the n-th restart that sends every record again, so the builds of one generation are never taken
    /// for those of another when they are looked up.
    /// </summary>
    public static string Prefix(string runKey, int generation)
    {
        ArgumentNullException.ThrowIfNull(runKey);
        ArgumentOutOfRangeException.ThrowIfNegative(generation);
        return generation == 0 ? runKey : $"{runKey}.{generation}";
    }

    /// <summary>The delivery id of the batch whose first record is at <paramref name="firstPosition"/>.</summary>
    public static string For(string prefix, long firstPosition) => $"{prefix}-{firstPosition}";
}
