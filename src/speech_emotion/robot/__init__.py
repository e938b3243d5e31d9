"""The NAO robot over NAOqi (``qi``): the reactions client, and a simulated robot that speaks the same protocol."""
