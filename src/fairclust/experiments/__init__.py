"""The paper's in-depth experiments (Section 5.3), one command each.

* ``fairclust figure tsne``     Figure 4: t-SNE of the embedding during DFC training (:mod:`.tsne`).
* ``fairclust figure matching`` Figure 5: best / worst matching of per-group clusterings (:mod:`.label_matching`).
* ``fairclust figure params``   Figure 6: alpha_f vs Balance, alpha_s vs NMI (:mod:`.params`).
* ``fairclust table probe``     Table 4: can a classifier recover the group? (:mod:`.probe`).
* ``fairclust report DIR``      one offline HTML page of a run's metrics, figures and tables (:mod:`.report`).

Every command writes its numbers as CSV and plots them from those very rows, so the
pictures and the files never disagree; the Section 4.3 quantities
(:func:`fairclust.metrics.information_report`) are columns of every CSV.
"""
