"""Independent oracle for crates/metrics/src/stats.rs: computes the expected figures with
numpy, scipy and statsmodels and writes them as a Rust struct literal (oracle/stats.rs.in).
Run: python3 crates/metrics/oracle/stats.py"""
import math, pathlib
import numpy as np
import scipy.stats as st
import statsmodels.api as sm

X = [1.0, 2.5, 2.5, 4.0, 7.0, 3.0, 9.5, 11.0, 6.0, 8.0, 12.5, 5.0]
Y = [88.9, 81.5, 77.8, 74.1, 70.4, 85.2, 59.3, 55.6, 66.7, 62.9, 51.9, 77.8]

t_low, t_high = st.t.interval(0.95, len(Y) - 1, loc=np.mean(Y), scale=st.sem(Y))
rho = st.spearmanr(X, Y).statistic
half = st.norm.ppf(0.975) / math.sqrt(len(X) - 3)
z = math.atanh(rho)
fit = sm.OLS(Y, sm.add_constant(X)).fit()
lo, hi = fit.conf_int(0.05)[1]
values = dict(t_low=t_low, t_high=t_high, rho=rho, rho_low=math.tanh(z - half), rho_high=math.tanh(z + half),
              slope=fit.params[1], intercept=fit.params[0], se=fit.bse[1], slope_low=lo, slope_high=hi)
body = "Oracle {\n" + "".join(f"    {k}: {float(v)!r},\n" for k, v in values.items()) + "}\n"
pathlib.Path(__file__).with_name("stats.rs.in").write_text(body)
print(body)
print("np.quantile:", np.quantile(X, [0.25, 0.5, 0.9]), "mean Y:", np.mean(Y))
