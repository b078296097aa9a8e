namespace Kiteflow.Server.Ui;

/// <summary>One file of the web UI, held in memory with its compressed forms (compressed once, when the server starts).</summary>
/// <param name="Path">The path under the UI's asset root, e.g. <c>js/app.js</c>.</param>
/// <param name="ContentType">The media type it is served with.</param>
/// <param name="Identity">The bytes as they are.</param>
/// <param name="Gzip">The bytes gzip-compressed.</param>
/// <param name="Brotli">The bytes Brotli-compressed.</param>
/// <param name="ETag">A strong entity tag from the bytes' hash.</param>
internal sealed record UiAsset(string Path, string ContentType, byte[] Identity, byte[] Gzip, byte[] Brotli, string ETag);
