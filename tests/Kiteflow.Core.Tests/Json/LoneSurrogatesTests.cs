using System.Text;
using Kiteflow.Core.Json;

namespace Kiteflow.Core.Tests.Json;

public sealed class LoneSurrogatesTests
{
    [Theory]
    [InlineData("""{"a":"plain"}""", -1)]
    [InlineData("""{"a":"\ud83d\ude00 \u00e9 \n \" \\"}""", -1)]
    [InlineData("""{"a":"\\ud800"}""", -1)]              // an escaped backslash, then text
    [InlineData("""{"a":"\ud800"}""", 6)]
    [InlineData("""{"a":"\udc00\ud800"}""", 6)]           // low before high: the low one is alone
    [InlineData("""{"a":"x\ud83d"}""", 7)]                // a high half at the end of the string
    [InlineData("""{"a":"\ud83d\ud83d\ude00"}""", 6)]     // two highs: the first has no low half
    [InlineData("""{"a":"\ud83d\n"}""", 6)]               // another escape after the high half
    [InlineData("""{"a":"\ud83dA"}""", 6)]                // a character after the high half
    [InlineData("""{"a":"\ud83d\u0041"}""", 6)]           // a \u escape that is no low half
    [InlineData("""{"\ud800":1}""", 2)]                   // in a key
    public void FindEscape_OffsetOfTheFirstHalfWithoutItsPair(string json, int expected)
    {
        Assert.Equal(expected, LoneSurrogates.FindEscape(Encoding.UTF8.GetBytes(json)));
    }
}
