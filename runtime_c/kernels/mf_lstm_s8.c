/*
 * int8 UNIDIRECTIONAL_SEQUENCE_LSTM, int16 cell state, bit-exact with TFLM's integer LSTM (lstm_eval.h).
 *
 * Every unit's four gates depend only on x_t and h_{t-1}, and its cell only on itself, so one unit is
 * finished at a time: the cell is updated in place, h_t goes to the output row of step t and is copied
 * into the hidden state once the whole row is done (the other units still read h_{t-1} until then).
 */
#include "mf_lstm_s8.h"

#include "mf_requant.h"

/* sigmoid(i / 24) in 0.16 format: the table of reference_integer_ops::Logistic / Tanh (int16). */
static const uint16_t mf_lstm_sigmoid_table[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535};

static int16_t mf_lstm_sat16(int32_t x)
{
    return (int16_t)mf_clamp(x, -32768, 32767);
}

/* reference_integer_ops::Logistic(0, 0, ...) on int16: Q3.12 -> Q0.15. */
static int16_t mf_lstm_sigmoid(int16_t x)
{
    const int32_t v = (int32_t)x * 3;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 9;
    uint32_t r;
    if (uh >= 255u) {
        r = 0x7FFFu << 10;
    } else {
        const uint32_t ua = mf_lstm_sigmoid_table[uh];
        const uint32_t ub = mf_lstm_sigmoid_table[uh + 1u];
        r = (ua << 9) + (a & 0x1FFu) * (ub - ua);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(r >> 10);
}

/* reference_integer_ops::Tanh (int16) -> Q0.15. */
static int16_t mf_lstm_tanh(int16_t x, int32_t input_multiplier, int32_t input_left_shift)
{
    if (input_multiplier == 0) {
        input_multiplier = 3 << input_left_shift;
        input_left_shift = 0;
    }
    const int32_t round = input_left_shift > 0 ? (int32_t)1 << (input_left_shift - 1) : 0;
    const int32_t v = ((int32_t)x * input_multiplier + round) >> input_left_shift;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 8;
    int32_t r;
    if (uh >= 255u) {
        r = 0xFFFF << 8;
    } else {
        const uint32_t ua = mf_lstm_sigmoid_table[uh];
        const uint32_t ub = mf_lstm_sigmoid_table[uh + 1u];
        r = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return (int16_t)(r >> 8);
}

/* One row of an int8 -> int16 fully connected layer (output zero point 0): unit j only. */
static int16_t mf_lstm_fc(const int8_t *x, int32_t offset, const int8_t *w_row, int32_t n, int32_t bias, mf_quant q)
{
    int32_t acc = bias;
    for (int32_t k = 0; k < n; ++k) {
        acc += ((int32_t)x[k] + offset) * (int32_t)w_row[k];
    }
    return mf_lstm_sat16(mf_requantize(acc, q.multiplier, q.shift));
}

/* Pre-activation of unit j of one gate: sat16(FC_in(x) + FC_rec(h_prev)). */
static int16_t mf_lstm_gate_pre(const mf_lstm_s8_params *p, const mf_lstm_gate *g, const int8_t *x,
                                const int8_t *h_prev, int32_t j)
{
    const int32_t bias = g->bias != NULL ? g->bias[j] : 0;
    const int32_t in = mf_lstm_fc(x, p->input_offset, g->input_weights + j * p->input_size, p->input_size, bias,
                                  g->input_quant);
    const int32_t rec = mf_lstm_fc(h_prev, p->hidden_offset, g->recurrent_weights + j * p->state_size,
                                   p->state_size, 0, g->recurrent_quant);
    return mf_lstm_sat16(in + rec);
}

/* reference_integer_ops::MulElementwise of two int16 values (zero input offsets). */
static int32_t mf_lstm_mul(int32_t a, int32_t b, mf_quant q)
{
    return mf_requantize(a * b, q.multiplier, q.shift);
}

void mf_lstm_s8(const mf_lstm_s8_params *params, const int8_t *input, int8_t *output, int8_t *hidden_state,
                int16_t *cell_state)
{
    const mf_lstm_s8_params *p = params;
    const int32_t n_in = p->input_size;
    const int32_t n_state = p->state_size;
    for (int32_t b = 0; b < p->batches; ++b) {
        int8_t *h_prev = hidden_state + b * n_state;
        int16_t *cell = cell_state + b * n_state;
        for (int32_t t = 0; t < p->time_steps; ++t) {
            const int32_t row = p->time_major ? t * p->batches + b : b * p->time_steps + t;
            const int8_t *x = input + row * n_in;
            int8_t *h = output + row * n_state;
            for (int32_t j = 0; j < n_state; ++j) {
                const int16_t f = mf_lstm_sigmoid(mf_lstm_gate_pre(p, p->forget_gate, x, h_prev, j));
                const int16_t i = mf_lstm_sigmoid(mf_lstm_gate_pre(p, p->input_gate, x, h_prev, j));
                const int16_t g = mf_lstm_tanh(mf_lstm_gate_pre(p, p->cell_gate, x, h_prev, j), 0, 0);
                const int16_t o = mf_lstm_sigmoid(mf_lstm_gate_pre(p, p->output_gate, x, h_prev, j));
                const int16_t kept = mf_lstm_sat16(mf_lstm_mul(f, cell[j], p->forget_cell_quant));
                const int16_t added = mf_lstm_sat16(mf_lstm_mul(i, g, p->input_cell_quant));
                int32_t c = mf_clamp((int32_t)kept + (int32_t)added, -32768, 32767);
                if (p->cell_clip > 0) {
                    c = mf_clamp(c, -p->cell_clip, p->cell_clip);
                }
                cell[j] = (int16_t)c;
                const int16_t tc = mf_lstm_tanh(cell[j], p->tanh_multiplier, p->tanh_left_shift);
                h[j] = (int8_t)mf_clamp(mf_lstm_mul(tc, o, p->hidden_quant) + p->hidden_zp, -128, 127);
            }
            for (int32_t j = 0; j < n_state; ++j) {
                h_prev[j] = h[j];
            }
        }
    }
}
