"""The numbers of the loudness standards, each with the place it comes from.

ITU-R BS.1770-4 (10/2015), "Algorithms to measure audio programme loudness and
true-peak audio level": the K-weighting filter (Annex 1, Tables 1 and 2), the
loudness of a block (eq. 1-2, Table 3), the gating (sec. 2.8, eq. 3-7) and the
true peak (Annex 2). EBU Tech 3341 (2016), "Loudness Metering: 'EBU Mode'":
the momentary and short-term windows. EBU Tech 3342 (2016), "Loudness Range".

Examples
--------
>>> from audiolab.loudness import constants
>>> constants.ABSOLUTE_GATE_LUFS, constants.MOMENTARY_SUBBLOCKS
(-70.0, 400)
"""

from __future__ import annotations

# ---------------------------------------------------------------- BS.1770-4
#: eq. (2): L_K = -0.691 + 10 log10(sum_i G_i z_i)
LOUDNESS_OFFSET = -0.691
#: Table 3: channel weights G_i in the order L, R, C, Ls, Rs
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)

#: Table 1: stage 1 of the K-weighting (high shelf) at 48 kHz, (b0, b1, b2), (a0, a1, a2)
SHELF_48K = ((1.53512485958697, -2.69169618940638, 1.19839281085285),
             (1.0, -1.69065929318241, 0.73248077421585))  # fmt: skip
#: Table 2: stage 2 of the K-weighting (RLB high pass) at 48 kHz
HIGHPASS_48K = ((1.0, -2.0, 1.0),
                (1.0, -1.99004745483398, 0.99007225036621))  # fmt: skip
# The analog prototype behind Tables 1 and 2: the values libebur128 derives its
# filters from at every rate (ebur128.c, ebur128_init_filter); through the
# bilinear transform at 48 kHz they give the tables.
SHELF_F0_HZ = 1681.974450955533
SHELF_GAIN_DB = 3.999843853973347
SHELF_Q = 0.7071752369554196
SHELF_MID_EXPONENT = 0.4996667741545416
HIGHPASS_F0_HZ = 38.13547087602444
HIGHPASS_Q = 0.5003270373238773

#: sec. 2.8: 400 ms gating blocks overlapping by 75 %, i.e. one every 100 ms
MOMENTARY_S = 0.4
GATING_STEP_S = 0.1
#: eq. (5): the absolute gate
ABSOLUTE_GATE_LUFS = -70.0
#: eq. (6): the relative gate, below the absolute-gated loudness
RELATIVE_GATE_LU = -10.0

#: Annex 2: oversample by 4 below 96 kHz and by 2 below 192 kHz ...
BS1770_OVERSAMPLING = ((96000, 4), (192000, 2))
#: ... and, beyond the standard, 16 times at every rate up to 192 kHz and to at least
#: 192 kHz (32 times at 8 kHz, a multiple of 16 past 16), so that a limiter reading this
#: true peak holds its ceiling against a band-limited reference oversampled 16 times
#: (the ideal true peak adds its residual: audiolab.loudness.ideal). A band-limited
#: signal sampled at R can peak above its largest sample by up to 1 / cos(pi B / R) for a
#: bandwidth B: 0.7 dB at 4x, 0.04 dB at 16x, for content at the Nyquist frequency
#: (at 16 kHz, 4x missed what a 192 kHz reading and ffmpeg's loudnorm see). Above
#: 192 kHz the oversampled rate stays at least 3.072 MHz.
TRUE_PEAK_MIN_RATE_HZ = 192000
TRUE_PEAK_TIMES = 16
TRUE_PEAK_ENOUGH_RATE_HZ = TRUE_PEAK_TIMES * 192000
#: The interpolator: a Kaiser-windowed sinc cut off at the Nyquist frequency, 32 taps
#: per phase, beta 9 (ffmpeg's resampler filter). Annex 2's example has 12 taps per
#: phase, which reads up to about 0.5 dB low for content near the Nyquist frequency.
TRUE_PEAK_TAPS_PER_PHASE = 32
TRUE_PEAK_KAISER_BETA = 9.0

# -------------------------------------------------------------- EBU Tech 3341
#: sec. 2.2: the short-term window (the momentary one is the 400 ms block)
SHORT_TERM_S = 3.0

# -------------------------------------------------------------- EBU Tech 3342
#: sec. 3: loudness range from short-term values at 10 Hz or faster, a relative
#: gate 20 LU below their energy mean, the spread from the 10th to the 95th percentile
LRA_RELATIVE_GATE_LU = -20.0
LRA_PERCENTILES = (10.0, 95.0)

# ------------------------------------------------------------------- audiolab
#: The sub-block grid every window is built from: 1 ms, so that every window position
#: on a 1 ms grid (Tech 3341 cases 10 and 13 place tones off the 100 ms grid) is a
#: difference of cumulative sums.
GRID_S = 0.001
GRID_PER_S = 1000
MOMENTARY_SUBBLOCKS = 400
SHORT_TERM_SUBBLOCKS = 3000
GATING_STEP_SUBBLOCKS = 100

#: Rates the meter works at: the K-weighting shelf (1.7 kHz) must lie well below Nyquist.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8000, 768000
