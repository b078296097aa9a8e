using System.Collections.Frozen;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;

namespace Kiteflow.Server.Ui;

/// <summary>
/// The web UI's files (styles, ES modules, the bundled CodeMirror and uPlot), embedded in this assembly, loaded and
/// compressed (Brotli and gzip) once, and addressed under a version taken from their combined hash: every asset URL
/// changes when any file does, so assets can be cached for a year and relative module imports stay valid.
/// </summary>
internal sealed class UiAssets
{
    private const string ResourcePrefix = "ui/";

    private readonly FrozenDictionary<string, UiAsset> _assets;

    public UiAssets()
        : this(typeof(UiAssets).Assembly)
    {
    }

    internal UiAssets(Assembly assembly)
    {
        var assets = new Dictionary<string, UiAsset>(StringComparer.Ordinal);
        using var combined = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var path = name[ResourcePrefix.Length..].Replace('\\', '/');
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            var hash = SHA256.HashData(bytes);
            combined.AppendData(System.Text.Encoding.UTF8.GetBytes(path));
            combined.AppendData(hash);
            assets[path] = new UiAsset(path, ContentTypeOf(path), bytes, Compress(bytes, brotli: false), Compress(bytes, brotli: true), $"\"{Convert.ToHexStringLower(hash.AsSpan(0, 12))}\"");
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
        Version = Convert.ToHexStringLower(combined.GetHashAndReset().AsSpan(0, 6));
    }

    /// <summary>The version segment of asset URLs: <c>/ui/{Version}/…</c>.</summary>
    public string Version { get; }

    /// <summary>Every asset, by path.</summary>
    public IReadOnlyDictionary<string, UiAsset> All => _assets;

    /// <summary>The URL an asset is served at.</summary>
    public string Url(string path) => $"/ui/{Version}/{path}";

    public bool TryGet(string path, out UiAsset asset) => _assets.TryGetValue(path, out asset!);

    private static byte[] Compress(byte[] bytes, bool brotli)
    {
        using var output = new MemoryStream();
        if (brotli)
        {
            // Quality 9 of 11: within a few percent of the smallest, at a fraction of the start-up time.
            using var encoder = new BrotliEncoder(quality: 9, window: 22);
            var target = new byte[BrotliEncoder.GetMaxCompressedLength(bytes.Length)];
            encoder.Compress(bytes, target, out _, out var written, isFinalBlock: true);
            return target.AsSpan(0, written).ToArray();
        }

        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    private static string ContentTypeOf(string path) => System.IO.Path.GetExtension(path) switch
    {
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".txt" => "text/plain; charset=utf-8",
        ".html" => "text/html; charset=utf-8",
        ".png" => "image/png",
        ".woff2" => "font/woff2",
        _ => "application/octet-stream",
    };
}
